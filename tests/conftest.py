import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SAMPLE_DIR = osp.join(REPO, '..', 'shared', 'data', 'imagenet-sample')


def run_tool(*args: str, cwd: str = REPO, check: bool = True,
             timeout: int = 600) -> subprocess.CompletedProcess:
    """Run ``python tools/<args>`` in a subprocess, as a user would."""
    env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='2')
    result = subprocess.run([sys.executable, *args], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(
            f'{args} exited {result.returncode}\n--- stdout\n'
            f'{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}')
    return result


@pytest.fixture(scope='session')
def shapes_root(tmp_path_factory) -> str:
    """A small generated data set in ImageNet layout (10 classes)."""
    from mmpre_inception.datasets import make_synthetic_imagenet
    root = str(tmp_path_factory.mktemp('shapes'))
    make_synthetic_imagenet(root, train_per_class=4, val_per_class=2,
                            image_size=96, seed=1)
    return root


@pytest.fixture
def seeded():
    torch.manual_seed(0)
    yield


def perturb_batchnorm(model: torch.nn.Module, generator=None) -> None:
    """Give every BatchNorm non-trivial statistics and affine parameters,
    so a test catches weights or statistics that end up in the wrong
    place."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                n = module.num_features
                module.running_mean.copy_(torch.randn(n, generator=generator)
                                          * 0.1)
                module.running_var.copy_(torch.rand(n, generator=generator)
                                         + 0.5)
                module.weight.copy_(torch.rand(n, generator=generator) + 0.5)
                module.bias.copy_(torch.randn(n, generator=generator) * 0.1)


TINY_CONFIG = osp.join(REPO, 'tests', 'configs', 'tiny_shapes.py')


@pytest.fixture(scope='session')
def tiny_options(shapes_root):
    """``--cfg-options`` that point TINY_CONFIG at the 40-image test data
    set, plus any further ``key=value`` options; goes last on a command
    line."""

    def options(*extra: str) -> list:
        roots = [f'{loader}.dataset.data_root={shapes_root}'
                 for loader in ('train_dataloader', 'val_dataloader',
                                'test_dataloader')]
        return ['--cfg-options', *roots, *extra]

    return options


@pytest.fixture(scope='session')
def one_epoch_run(tiny_options, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('work'))
    run_tool('tools/train.py', TINY_CONFIG, '--work-dir', work_dir,
             *tiny_options('train_cfg.max_epochs=1'))
    return work_dir
