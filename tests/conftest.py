"""Fixtures shared by the suite; plain helpers live in tests/helpers/."""
import os
import os.path as osp

import pytest
import torch
from helpers.numerics import calibrate
from helpers.tools import TINY_CONFIG, call_tool
from mmpretrain.models.backbones import InceptionV3 as MMPretrainInceptionV3


def pytest_configure(config):
    # make test runs two pytest-xdist workers on the 2-core machine. Each
    # worker, and each tool it starts, gets one thread: two workers of two
    # threads oversubscribe the cores, and OpenMP's spinning threads then
    # make the pair slower than one worker alone.
    if os.environ.get('PYTEST_XDIST_WORKER'):
        os.environ['OMP_NUM_THREADS'] = '1'
        torch.set_num_threads(1)


@pytest.fixture(scope='session')
def shapes_root(tmp_path_factory) -> str:
    """A small generated data set in ImageNet layout (10 classes)."""
    from helpers.tools import synthetic
    root = str(tmp_path_factory.mktemp('shapes'))
    synthetic().make_synthetic_imagenet(root, train_per_class=4,
                                        val_per_class=2, image_size=96,
                                        seed=1)
    return root


@pytest.fixture
def seeded():
    torch.manual_seed(0)
    yield


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
    call_tool('tools/train.py', TINY_CONFIG, '--work-dir', work_dir,
              *tiny_options('train_cfg.max_epochs=1'), check=True)
    return work_dir


@pytest.fixture(scope='session')
def mmpretrain_checkpoint(tmp_path_factory):
    """mmpretrain's InceptionV3 (with AuxLogits) with random,
    well-conditioned weights, saved as ``{'state_dict': {'backbone.*':
    ...}}`` exactly as its published checkpoint is laid out."""
    torch.manual_seed(0)
    reference = MMPretrainInceptionV3(num_classes=1000, aux_logits=True)
    reference.init_weights()
    calibrate(reference, torch.randn(
        8, 3, 299, 299, generator=torch.Generator().manual_seed(1)),
        reference.fc)
    state = {f'backbone.{k}': v for k, v in reference.state_dict().items()}
    assert 'backbone.fc.weight' in state
    assert 'backbone.AuxLogits.conv0.conv.weight' in state
    path = str(tmp_path_factory.mktemp('ckpt') / 'mmpretrain_layout.pth')
    torch.save({'state_dict': state, 'meta': {'mmpretrain_version': '1.2.0'}},
               path)
    return reference, path


@pytest.fixture(scope='session')
def evaluated(one_epoch_run, tiny_options, tmp_path_factory):
    """``tools/test.py`` on the trained checkpoint, predictions to --out:
    (the finished process, the --out path, the work dir)."""
    work_dir = tmp_path_factory.mktemp('evaluated')
    out = str(work_dir / 'preds.pkl')
    result = call_tool('tools/test.py', TINY_CONFIG,
                       osp.join(one_epoch_run, 'epoch_1.pth'), '--work-dir',
                       str(work_dir), '--out', out, *tiny_options(),
                       check=True)
    return result, out, work_dir
