"""Our configs against mmpretrain's own Inception V3 config."""
import os.path as osp

import pytest
from helpers.tools import REPO
from mmengine.config import Config

from mmpre_inception.analysis import mmpretrain_inception_config_path
from mmpre_inception.utils import (ConfigError, check_config_runs_here,
                                   load_config)

MAIN_CONFIG = osp.join(REPO, 'configs', 'inception_v3_8xb32_in1k.py')
MMPRETRAIN_CONFIG = mmpretrain_inception_config_path()


@pytest.mark.skipif(not osp.isfile(MMPRETRAIN_CONFIG),
                    reason='mmpretrain was installed without its configs')
def test_evaluation_matches_mmpretrain():
    ours, theirs = Config.fromfile(MAIN_CONFIG), Config.fromfile(
        MMPRETRAIN_CONFIG)

    def type_name(value):
        # Ours names classes, theirs strings; mmpretrain 1.x renamed
        # PackClsInputs to PackInputs.
        # Our LoadImageFromFileChecked decodes as mmcv's LoadImageFromFile
        # does (tests/test_bad_input.py compares the pixels).
        name = value if isinstance(value, str) else value.__name__
        return name.replace('PackClsInputs', 'PackInputs').replace(
            'LoadImageFromFileChecked', 'LoadImageFromFile')

    def steps(pipeline):
        return [{**step, 'type': type_name(step['type'])}
                for step in pipeline]

    assert steps(ours.test_dataloader.dataset.pipeline) == steps(
        theirs.test_dataloader.dataset.pipeline)
    assert ours.data_preprocessor == theirs.data_preprocessor
    ours_set, theirs_set = ours.test_dataloader.dataset, \
        theirs.test_dataloader.dataset
    assert (type_name(ours_set.type), ours_set.data_root) == (
        theirs_set.type, theirs_set.data_root)
    # mmpretrain's split='val' resolves to meta/val.txt and val/ when the
    # annotation file exists; ours names them explicitly.
    assert theirs_set.split == 'val'
    assert (ours_set.ann_file, ours_set.data_prefix) == ('meta/val.txt',
                                                         'val')
    assert {**ours.test_evaluator, 'type': type_name(
        ours.test_evaluator.type)} == theirs.test_evaluator


def test_data_root_is_one_option_away(tmp_path):
    cfg = load_config(MAIN_CONFIG, {
        'test_dataloader.dataset.data_root': str(tmp_path)})
    assert cfg.test_dataloader.dataset.data_root == str(tmp_path)
    assert cfg.test_dataloader.dataset.ann_file == 'meta/val.txt'


def test_missing_config_is_named():
    with pytest.raises(ConfigError, match='config file not found: nope.py'):
        load_config('nope.py')


def test_zero_test_workers_run_the_config_as_it_is():
    # Evaluation loaders keep no workers between passes, so num_workers=0
    # (mmpretrain's tools included) needs nothing else.
    cfg = load_config(MAIN_CONFIG, {'test_dataloader.num_workers': 0})
    assert cfg.test_dataloader.persistent_workers is False
    assert cfg.train_dataloader.persistent_workers is True
    check_config_runs_here(cfg)


def test_zero_train_workers_with_persistent_workers_name_both_keys():
    cfg = load_config(MAIN_CONFIG, {'train_dataloader.num_workers': 0})
    with pytest.raises(ConfigError, match=r'^train_dataloader.persistent_'
                       r'workers=True needs worker processes but '
                       r'train_dataloader.num_workers is 0: also set '
                       r'train_dataloader.persistent_workers=False$'):
        check_config_runs_here(cfg)
