"""``compile``: mmengine's config key, which compiles the training step,
and ours for the test and validation steps (``tools/test.py --compile``)."""
import contextlib

import pytest
import torch
from helpers.numerics import assert_within_rounding, calibrate, float64_copy
from helpers.tools import TINY_CONFIG, call_tool
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope
from mmpretrain.structures import DataSample

from mmpre_inception.checkpoint import load_checkpoint_file
from mmpre_inception.registry import MODELS


@pytest.mark.slow
def test_the_compiled_model_gives_eagers_logits():
    """torch.compile (inductor, C++ kernels on this CPU) of the classifier
    at 80 px: eager's logits within float32 rounding. Costs about 50 s on
    the 2-core machine, nearly all of it inductor's compilation."""
    cfg = Config.fromfile(TINY_CONFIG)
    with DefaultScope.overwrite_default_scope('mmpre_inception'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    images = torch.randn(4, 3, 80, 80,
                         generator=torch.Generator().manual_seed(0))
    calibrate(model, images, model.head.fc,
              forward=lambda x: model(x, mode='tensor'))
    with torch.no_grad():
        eager = model(images, mode='tensor')
        exact = float64_copy(model)(images.double(), mode='tensor')
        compiled = torch.compile(lambda x: model(x, mode='tensor'))(images)
    assert_within_rounding(compiled, eager, exact, 'compiled logits')


@pytest.mark.slow
def test_test_tool_compile_compiles_the_test_step(one_epoch_run, tiny_options,
                                                  tmp_path):
    """The wiring, with torch.compile's eager backend (dynamo traces the
    test step; inductor is tested above): the saved config states it, the
    log says the step is compiled, and the metrics are eager's."""
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
    step, mmengine's autocast context included; torch.compile's eager
    backend, since inductor is tested above): the weights of the eager
    run, bit for bit, since the traced graph runs the same operations."""
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
            str(work_dir / 'epoch_1.pth'))['state_dict'])
    for key, value in weights[0].items():
        assert torch.equal(weights[1][key], value), key


class MMEngineAutocastWrapper(OptimWrapper):
    """mmengine's AmpOptimWrapper's context (its ``autocast`` helper) on a
    CPU, where that wrapper itself refuses to run: the GPU path that
    ``tools/train.py --amp --compile`` takes, for dynamo to trace."""

    @contextlib.contextmanager
    def optim_context(self, model):
        from mmengine.runner.amp import autocast
        with super().optim_context(model), autocast(
                device_type='cpu', dtype=torch.bfloat16):
            yield


def test_compiled_train_step_enters_mmengines_autocast_eagerly():
    """The compiled step (dynamo, eager backend) under mmengine's autocast
    helper, which dynamo in torch 2.11 fails to trace (make test-floors
    runs this on it): the eager step's losses and weights, bit for bit."""
    cfg = Config.fromfile(TINY_CONFIG)
    results = []
    for compiled in (False, True):
        torch.manual_seed(0)
        with DefaultScope.overwrite_default_scope('mmpre_inception'):
            model = MODELS.build(cfg.model)
        model.init_weights()
        wrapper = MMEngineAutocastWrapper(
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
        step = torch.compile(model.train_step, backend='eager') \
            if compiled else model.train_step
        generator = torch.Generator().manual_seed(1)
        data = dict(
            inputs=[torch.randint(0, 256, (3, 80, 80), dtype=torch.uint8,
                                  generator=generator) for _ in range(2)],
            data_samples=[DataSample().set_gt_label(label)
                          for label in (0, 3)])
        losses = [step(data, wrapper)['loss'] for _ in range(2)]
        assert not torch.is_autocast_enabled('cpu')  # left behind it
        results.append((losses, model.state_dict()))
    (eager_losses, eager_state), (losses, state) = results
    assert [float(x) for x in losses] == [float(x) for x in eager_losses]
    for key, value in eager_state.items():
        assert torch.equal(state[key], value), key
