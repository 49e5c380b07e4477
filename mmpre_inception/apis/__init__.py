"""What tools and users call: the inference API, evaluation and training
runs, and the command-line runtime (:mod:`.cli`).

The names load on first use (PEP 562), so that a tool importing
:mod:`mmpre_inception.apis.cli` answers ``--help`` before torch and
mmpretrain are imported.
"""
import gc
import importlib

_NAMES = {
    'ImagePredictor': '.inference',
    'init_model': '.inference',
    'build_runner': '.evaluation',
    'check_out_path': '.evaluation',
    'check_writable': '.evaluation',
    'ensemble_pairs': '.evaluation',
    'evaluate': '.evaluation',
    'evaluate_ensemble': '.evaluation',
    'prepare_test_config': '.evaluation',
    'summary': '.evaluation',
    'use_test_time_augmentation': '.evaluation',
    'write_metrics': '.evaluation',
    'use_device_decoding': '.device_input',
    'prepare_train_config': '.training',
    'resume_from': '.training',
    'set_mixed_precision': '.training',
    'train': '.training',
    'build_export_module': '.deployment',
    'export_onnx': '.deployment',
    'check_output_file': '.evaluation',
    'command_line': '.cli',
    'process_group': '.cli',
    # The floor the tools stand on, so that they import one package.
    'ConfigError': 'mmpre_inception.utils',
    'check_file_exists': 'mmpre_inception.utils',
    'default_work_dir': 'mmpre_inception.utils',
    'load_config': 'mmpre_inception.utils',
    'is_main_process': 'mmengine.dist',
    # Files the tools write and read, each in its one home.
    'write_atomically': 'mmpre_inception.checkpoint',
    'save_checkpoint_atomically': 'mmpre_inception.checkpoint',
    'load_results': 'mmpre_inception.evaluation',
    'dump_results': 'mmpre_inception.evaluation',
    'write_json': 'mmpre_inception.evaluation',
    'check_annotation_file': 'mmpre_inception.datasets',
    'check_config_annotations': 'mmpre_inception.datasets',
    'read_image': 'mmpre_inception.datasets',
}

__all__ = list(_NAMES)


def __getattr__(name: str):
    if name not in _NAMES:
        raise AttributeError(
            f'module {__name__!r} has no attribute {name!r}')
    # A tool's first names import torch, mmengine and mmpretrain: some
    # 400,000 objects that live as long as the process, which Python's
    # collector would walk again each time they grow by a quarter while
    # they are imported (0.3 s of a tools/test.py start of 4.5 s on the
    # 2-core machine). It waits until the import is done.
    collecting = gc.isenabled()
    gc.disable()
    try:
        module = importlib.import_module(_NAMES[name], __name__)
    finally:
        if collecting:
            gc.enable()
    return getattr(module, name)


def __dir__():
    return sorted(list(globals()) + __all__)
