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
