"""The private torch and mmengine APIs of engine/private_apis.py still
exist as used: a new release that changes one fails here, not in a run."""
import inspect
import os.path as osp

import torch
from mmengine.hooks import CheckpointHook
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint_to_model

import mmpre_inception
from mmpre_inception.engine import private_apis


def parameters(function) -> list:
    return list(inspect.signature(function).parameters)


def test_mmengines_private_apis_keep_their_signatures():
    save = getattr(CheckpointHook, private_apis.CHECKPOINT_HOOK_SAVE)
    assert parameters(save) == ['self', 'runner', 'step', 'meta']
    loading = parameters(_load_checkpoint_to_model)
    assert loading[:3] == ['model', 'checkpoint', 'strict']
    assert 'revise_keys' in loading
    # Runner attributes read by is_training and is_resuming.
    source = inspect.getsource(Runner)
    assert 'self._train_loop = train_cfg' in source  # a dict until train()
    assert 'self._train_loop = self.build_train_loop(' in source
    assert 'self._resume = resume' in source
    # give_a_name_of_its_own: the name the three instances are built under,
    # the logger first.
    assert source.index('self.logger = self.build_logger(') < source.index(
        'self.message_hub = self.build_message_hub(') < source.index(
            'self.visualizer = self.build_visualizer(')
    for builder in ('build_logger', 'build_message_hub', 'build_visualizer'):
        assert "setdefault('name', self._experiment_name)" in \
            inspect.getsource(getattr(Runner, builder)), builder


def test_torchs_private_apis_are_there():
    from torch.distributed import distributed_c10d
    assert callable(distributed_c10d._get_default_store)
    assert private_apis.default_store() is None  # no process group here
    loader = torch.utils.data.DataLoader(list(range(4)), num_workers=1,
                                         persistent_workers=True)
    assert list(loader) == [torch.tensor([i]) for i in range(4)]
    iterator = loader._iterator
    assert iterator is not None and hasattr(iterator, '_shutdown_workers')
    private_apis.shutdown_loader_workers(loader)
    assert loader._iterator is None and not iterator._workers_status[0]


def test_mmengine_reads_read_base_imports_through_get_installed_path():
    """utils.config.packages_found_where_they_import replaces the name
    mmengine's config parser calls for a ``read_base()`` absolute import."""
    import mmengine.config.config as mmengine_config

    from mmpre_inception.utils.config import packages_found_where_they_import
    source = inspect.getsource(mmengine_config.Config._parse_lazy_import)
    assert 'root_path = get_installed_path(package)' in source
    recorded = mmengine_config.get_installed_path
    with packages_found_where_they_import():
        assert mmengine_config.get_installed_path('mmpre_inception') == \
            osp.dirname(mmpre_inception.__file__)
    assert mmengine_config.get_installed_path is recorded


def test_torchs_onnx_exporter_names_its_opsets():
    opsets = private_apis.onnx_opsets()
    assert opsets[0] <= 17 <= opsets[-1]  # the tool's default
