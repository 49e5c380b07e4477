"""``compile``: mmengine's config key, which compiles the training step,
and ours for the test and validation steps (``tools/test.py --compile``)."""
import pytest
import torch
from helpers.tools import TINY_CONFIG, call_tool
from mmengine.config import Config

from mmpre_inception.checkpoint import load_checkpoint_file


@pytest.mark.slow
def test_test_tool_compile_compiles_the_test_step(one_epoch_run, tiny_options,
                                                  tmp_path):
    """The wiring, with torch.compile's eager backend (dynamo traces the
    test step; inductor's kernels are torch's to test): the saved config
    states it, the log says the step is compiled, and the metrics are
    eager's."""
    checkpoint = f'{one_epoch_run}/epoch_1.pth'
    plain = call_tool('tools/test.py', TINY_CONFIG, checkpoint, '--work-dir',
                      str(tmp_path / 'eager'), *tiny_options(), check=True)
    compiled = call_tool('tools/test.py', TINY_CONFIG, checkpoint,
                         '--compile', '--work-dir', str(tmp_path / 'compiled'),
                         *tiny_options('compile.backend=eager'), check=True)
    assert 'test_step is compiled' in compiled.stdout + compiled.stderr
    assert compiled.stdout.splitlines()[-1].replace(
        '--compile', '') == plain.stdout.splitlines()[-1]
    saved = next((tmp_path / 'compiled').rglob('tiny_shapes.py'))
    assert Config.fromfile(str(saved)).compile == dict(backend='eager')


@pytest.mark.slow
def test_the_compiled_training_step_trains_as_eager(tiny_options, tmp_path):
    """``tools/train.py --amp --compile`` (dynamo traces the training
    step; torch.compile's eager backend): the weights of the eager run, bit
    for bit, since the traced graph runs the same operations. ``--amp``
    enters mmengine's autocast helper, the one mmengine's AmpOptimWrapper
    enters on a GPU, which dynamo in torch 2.11 fails to trace: the step
    enters it eagerly (make test-floors runs this on torch 2.11)."""
    weights = []
    for name, flags in (('eager', []),
                        ('compiled', ['--compile', 'compile.backend=eager'])):
        work_dir = tmp_path / name
        options = tiny_options('train_cfg.max_epochs=1',
                               'train_dataloader.dataset.indices=8',
                               *flags[1:])
        result = call_tool('tools/train.py', TINY_CONFIG, '--amp',
                           *flags[:1], '--work-dir', str(work_dir),
                           *options, check=True)
        log = result.stdout + result.stderr
        assert ('Model has been "compiled"' in log) == bool(flags)
        weights.append(load_checkpoint_file(
            str(work_dir / 'epoch_1.pth'), mmap=True)['state_dict'])
    for key, value in weights[0].items():
        assert torch.equal(weights[1][key], value), key
