"""Our package as users install it: a wheel with mim's tools, and a
project elsewhere that inherits our configs with ``read_base()``."""
import json
import os
import os.path as osp
import shutil
import subprocess

import pytest
from helpers.tools import REPO, build_wheel, venv_with_this_stack
from helpers.tools import run_outside as run

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


@pytest.fixture(scope='module')
def wheel_venv(tmp_path_factory):
    """A fresh virtual environment outside the repository with our wheel
    and openmim (from the package registry) installed. torch and the
    OpenMMLab stack come from this environment's site-packages through a
    .pth file, so no second torch is downloaded; the wheel is installed
    without its dependencies for that reason. openmim's own dependencies
    pin old versions (setuptools 60, requests 2.28) and pull a download
    client mim's train, test and search never import, so only the three
    modules those import that the stack lacks are added."""
    where = tmp_path_factory.mktemp('wheel')
    wheel = build_wheel(where)
    python, venv_site = venv_with_this_stack(where / 'venv')
    run(python, '-m', 'pip', 'install', '--quiet', '--no-deps', 'openmim',
        'tabulate', 'colorama', 'pandas', cwd=where)
    run(python, '-m', 'pip', 'install', '--quiet', '--no-deps', wheel,
        cwd=where)
    return dict(bin=where / 'venv' / 'bin', site=venv_site,
                package=osp.join(venv_site, 'mmpre_inception'))


def test_wheel_ships_tools_configs_and_model_index(wheel_venv):
    package = wheel_venv['package']
    for path in ['.mim/tools/train.py', '.mim/tools/test.py',
                 '.mim/tools/analysis_tools/eval_metric.py',
                 '.mim/model-index.yml', '.mim/configs/metafile.yml',
                 'configs/inception_v3_8xb32_in1k.py',
                 'configs/_base_/models/inception_v3.py']:
        assert osp.isfile(osp.join(package, path)), path
    # Copies, not links into this checkout.
    assert not osp.islink(osp.join(package, '.mim', 'tools'))


def test_mim_search_lists_our_weights(wheel_venv, tmp_path):
    result = run(wheel_venv['bin'] / 'mim', 'search', 'mmpre_inception',
                 cwd=tmp_path)
    assert 'inception-v3_3rdparty_8xb32_in1k' in result.stdout
    assert 'inception-v3_timm-tf_in1k' in result.stdout


def test_mim_trains_a_packaged_config_and_tests_a_project_config(
        wheel_venv, shapes_root, tmp_path):
    """``mim train`` finds the demo config by name inside the installed
    package and runs the installed tools/train.py; ``mim test`` then runs a
    project's config that inherits ours with ``read_base()``."""
    os.makedirs(tmp_path / 'work_dirs' / 'demo')
    # The demo config reads work_dirs/demo/data, relative to where it runs.
    os.symlink(shapes_root, tmp_path / 'work_dirs' / 'demo' / 'data')
    mim = wheel_venv['bin'] / 'mim'
    train = run(mim, 'train', 'mmpre_inception',
                'inception_v3_1xb16_shapes.py', '--work-dir', 'work',
                '--no-validate', '--cfg-options', 'train_cfg.max_epochs=1',
                'train_dataloader.dataset.indices=16', cwd=tmp_path)
    package = wheel_venv['package']
    assert osp.join(package, 'configs', 'demo',
                    'inception_v3_1xb16_shapes.py') in train.stdout
    assert osp.join(package, '.mim', 'tools', 'train.py') in train.stdout
    checkpoint = tmp_path / 'work' / 'epoch_1.pth'
    state = load_checkpoint_file(checkpoint, mmap=True)
    assert state['state_dict']['head.fc.weight'].shape == (10, 2048)

    (tmp_path / 'my_config.py').write_text(
        DOWNSTREAM_CONFIG.format(data_root=shapes_root))
    run(mim, 'test', 'mmpre_inception', 'my_config.py', '--checkpoint',
        checkpoint, '--work-dir', 'test', '--out-item', 'metrics', '--out',
        'metrics.json', cwd=tmp_path)
    metrics = json.loads((tmp_path / 'metrics.json').read_text())
    assert 0 <= metrics['accuracy/top1'] <= 100
    # The project's config kept the inherited recipe: RMSProp as in the
    # paper, and the installed package's model.
    saved = (tmp_path / 'test' / 'my_config.py').read_text()
    assert 'RMSpropTF' in saved and 'InceptionClassifier' in saved


def write_project_config(tmp_path, data_root='data') -> str:
    path = tmp_path / 'my_config.py'
    path.write_text(DOWNSTREAM_CONFIG.format(data_root=data_root))
    return str(path)


def checkout_copy(where) -> str:
    """This checkout's files as a fresh clone has them (tracked, and new
    ones not ignored), without what was built or installed here."""
    files = subprocess.run(
        ['git', 'ls-files', '--cached', '--others', '--exclude-standard'],
        cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    clone = osp.join(where, 'mmpre_inception_clone')
    for name in files:
        source = osp.join(REPO, name)
        if not osp.lexists(source):
            continue  # deleted, not yet committed
        os.makedirs(osp.dirname(osp.join(clone, name)), exist_ok=True)
        if osp.islink(source):
            os.symlink(os.readlink(source), osp.join(clone, name))
        else:
            shutil.copy2(source, osp.join(clone, name))
    return clone


def test_pip_install_editable_lets_a_project_elsewhere_train(
        shapes_root, tmp_path):
    """``pip install -e .`` of a fresh clone (PEP 660: its metadata in
    site-packages, its files in the clone), then a project's config in
    another folder that inherits ours with ``read_base()``: our tools read
    it and train a step. The stack comes from this environment (a .pth
    file), so nothing is downloaded."""
    clone = checkout_copy(tmp_path)
    python, site = venv_with_this_stack(tmp_path / 'venv')
    run(python, '-m', 'pip', 'install', '--quiet', '--no-deps',
        '--no-build-isolation', '-e', clone, cwd=tmp_path)
    installed = run(python, '-c', 'import mmpre_inception, importlib.'
                    'metadata as m; print(mmpre_inception.__file__); '
                    'print(m.distribution("mmpre_inception")._path)',
                    cwd=tmp_path).stdout.split()
    assert installed[0] == osp.join(clone, 'mmpre_inception', '__init__.py')
    assert installed[1].startswith(site)  # the metadata: site-packages
    project = tmp_path / 'project'
    project.mkdir()
    config = write_project_config(project, shapes_root)
    run(python, osp.join(clone, 'tools', 'train.py'), config, '--work-dir',
        'work', '--no-validate', '--cfg-options',
        'train_dataloader.dataset.indices=8', cwd=project)
    state = load_checkpoint_file(str(project / 'work' / 'epoch_1.pth'),
                                 mmap=True)
    assert state['state_dict']['head.fc.weight'].shape == (10, 2048)
    assert state['meta']['iter'] == 1
