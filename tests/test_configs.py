"""Our configs against mmpretrain's own Inception V3 config."""
import os
import os.path as osp

import pytest
from helpers.tools import MAIN_CONFIG, REPO
from mmengine.config import Config

from measure.mmpretrain_reference import mmpretrain_inception_config_path
from mmpre_inception.utils import (ConfigError, auto_num_workers,
                                   check_config_runs_here, load_config)
from mmpre_inception.utils.distributed import ranks_on_this_node

MMPRETRAIN_CONFIG = mmpretrain_inception_config_path()


@pytest.mark.skipif(not osp.isfile(MMPRETRAIN_CONFIG),
                    reason='mmpretrain was installed without its configs')
def test_evaluation_matches_mmpretrain():
    ours, theirs = Config.fromfile(MAIN_CONFIG), Config.fromfile(
        MMPRETRAIN_CONFIG)

    def type_name(value):
        # Ours names classes, theirs strings; mmpretrain 1.x renamed
        # PackClsInputs to PackInputs.
        # Our LoadImageFromFile decodes as mmcv's does
        # (tests/test_bad_input.py compares the pixels).
        name = value if isinstance(value, str) else value.__name__
        # Our data set by registry name (mmpretrain's ImageNet with an
        # exclude_file option).
        name = name.split('.')[-1]
        return name.replace('PackClsInputs', 'PackInputs')

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


@pytest.mark.parametrize('cpus,ranks,workers', [
    (2, 1, 1), (2, 2, 1), (1, 1, 1), (16, 1, 15), (128, 8, 15), (64, 3, 20)])
def test_auto_workers_share_the_cpus_among_ranks(cpus, ranks, workers):
    assert auto_num_workers(cpus=cpus, ranks=ranks) == workers


@pytest.mark.parametrize('env,ranks', [
    ({}, 1), ({'LOCAL_WORLD_SIZE': '4'}, 4),
    ({'SLURM_NTASKS_PER_NODE': '4(x2)'}, 4),
    ({'LOCAL_WORLD_SIZE': '2', 'SLURM_NTASKS_PER_NODE': '8'}, 2)])
def test_ranks_on_this_node_read_from_the_launcher(monkeypatch, env, ranks):
    for name in ('LOCAL_WORLD_SIZE', 'SLURM_NTASKS_PER_NODE'):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert ranks_on_this_node() == ranks


def test_auto_workers_from_the_main_config_raise_no_warning(tmp_path):
    """The main config's loaders say num_workers='auto': the Runner builds
    them with this machine's share, so PyTorch's 'exceeds the suggested
    max number of worker' warning (which 5 workers on 2 CPUs raise) never
    fires, and the saved config keeps 'auto'."""
    import warnings

    from mmengine.model import BaseModel
    from torch.utils.data import Dataset

    from mmpre_inception.engine import ConsoleSummaryRunner

    cfg = load_config(MAIN_CONFIG)
    assert cfg.train_dataloader.num_workers == 'auto'
    assert cfg.test_dataloader.num_workers == 'auto'

    class Numbers(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, index):
            return index

    class Model(BaseModel):
        def forward(self, inputs, data_samples=None, mode='tensor'):
            return inputs

    loader = {**cfg.test_dataloader, 'dataset': Numbers(), 'batch_size': 2,
              'sampler': dict(type='DefaultSampler', shuffle=False)}
    # The config's scope: a Runner makes its scope the current one for the
    # rest of the process, and later tests build our transforms by name.
    runner = ConsoleSummaryRunner(
        model=Model(), work_dir=str(tmp_path), test_dataloader=loader,
        default_scope=cfg.default_scope,
        test_cfg=dict(), test_evaluator=cfg.test_evaluator,
        cfg=dict(test_dataloader=cfg.test_dataloader))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        built = runner.test_dataloader
        assert [list(batch) for batch in built] == [[0, 1], [2, 3]]
    assert built.num_workers == auto_num_workers() >= 1
    assert not [w for w in caught if 'worker' in str(w.message)]
    assert runner.cfg.test_dataloader.num_workers == 'auto'


@pytest.mark.parametrize('value', ['Auto', -1, 2.5, True])
def test_unusable_worker_counts_name_the_key(value):
    cfg = load_config(MAIN_CONFIG, {'val_dataloader.num_workers': value})
    with pytest.raises(ConfigError, match=(
            r"^val_dataloader.num_workers=.*: use a number of worker "
            r"processes \(0 loads in the main process\) or 'auto' to "
            r"choose from this machine's CPUs$")):
        check_config_runs_here(cfg)


CONFIG_FILES = sorted(
    osp.relpath(osp.join(folder, name), REPO)
    for folder, _, names in os.walk(osp.join(REPO, 'configs', ''))
    for name in names
    if name.endswith('.py') and '_base_' not in folder)


@pytest.mark.parametrize('config', CONFIG_FILES)
def test_every_config_reads_and_passes_the_tools_checks(config):
    cfg = load_config(osp.join(REPO, config))
    check_config_runs_here(cfg)
    assert cfg.model.type.__name__ == 'InceptionClassifier'
    if 'multi_crop' in config:
        views = cfg.tta_pipeline[1]['transforms']
        count = 1
        for step in views:
            count *= len(step)
        assert f'_{count}crop_' in config
