"""A project elsewhere inherits our config from the installed package."""
import os
import os.path as osp
import subprocess
import sys

import pytest
from helpers.tools import REPO

from mmpre_inception.checkpoint import load_checkpoint_file

pytestmark = pytest.mark.slow

DOWNSTREAM_CONFIG = '''
from mmengine.config import read_base

with read_base():
    from mmpre_inception.configs.inception_v3_8xb32_in1k import *

from mmcv.transforms import LoadImageFromFile
from mmpretrain.datasets import (CenterCrop, CustomDataset, PackInputs,
                                 RandomResizedCrop, ResizeEdge)

num_classes = 10
data_root = {data_root!r}

model.head.num_classes = num_classes
data_preprocessor.num_classes = num_classes
train_dataloader.update(
    batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(type=CustomDataset, data_root=data_root,
                 data_prefix='train',
                 pipeline=[dict(type=LoadImageFromFile),
                           dict(type=RandomResizedCrop, scale=80),
                           dict(type=PackInputs)]))
val_dataloader.update(
    batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(type=CustomDataset, data_root=data_root,
                 ann_file='meta/val.txt', data_prefix='val',
                 pipeline=[dict(type=LoadImageFromFile),
                           dict(type=ResizeEdge, scale=80, edge='short'),
                           dict(type=CenterCrop, crop_size=80),
                           dict(type=PackInputs)]))
test_dataloader = val_dataloader
train_cfg.update(max_epochs=1)
custom_hooks = []
'''


def test_project_inherits_the_installed_config_and_trains(
        shapes_root, tmp_path):
    site = tmp_path / 'site-packages'
    subprocess.run(
        [sys.executable, '-m', 'pip', 'install', '--quiet', '--no-deps',
         '--no-build-isolation', '--target', str(site), REPO],
        check=True, capture_output=True, timeout=300)
    assert osp.isfile(site / 'mmpre_inception' / 'configs' /
                      'inception_v3_8xb32_in1k.py')
    project = tmp_path / 'project'
    project.mkdir()
    (project / 'my_config.py').write_text(
        DOWNSTREAM_CONFIG.format(data_root=shapes_root))
    env = dict(os.environ, PYTHONPATH=str(site), OMP_NUM_THREADS='2')

    where = subprocess.run(
        [sys.executable, '-c', 'from mmengine.utils import '
         'get_installed_path; print(get_installed_path("mmpre_inception"))'],
        cwd=project, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.strip() == str(site / 'mmpre_inception')

    result = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'train.py'),
         'my_config.py', '--work-dir', 'work'],
        cwd=project, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    state = load_checkpoint_file(project / 'work' / 'epoch_1.pth')
    assert state['state_dict']['head.fc.weight'].shape == (10, 2048)
    # The inherited recipe came along: RMSProp as in the paper.
    assert 'RMSpropTF' in (project / 'work' / 'my_config.py').read_text()
