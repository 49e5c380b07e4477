"""Fixtures shared by the suite; plain helpers live in tests/helpers/."""
import pytest
import torch
from helpers.tools import TINY_CONFIG, run_tool


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
