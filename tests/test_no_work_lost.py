"""Crashes, kills and NaNs lose no work."""
import copy
import os
import os.path as osp

import pytest
import torch
from helpers.tools import TINY_CONFIG
from mmengine.config import Config
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.hooks import EMAHook, Hook
from mmengine.runner import Runner

from mmpre_inception.checkpoint import load_checkpoint_file
from mmpre_inception.checkpoint import AtomicLocalBackend, write_atomically
from mmpre_inception.engine import NonFiniteLossError


def tiny_cfg(shapes_root, work_dir, **train_cfg):
    cfg = Config.fromfile(TINY_CONFIG)
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.data_root = shapes_root
    cfg.test_dataloader = cfg.val_dataloader
    cfg.train_cfg.update(train_cfg)
    cfg.work_dir = str(work_dir)
    return cfg


# --- atomic checkpoints ---


def test_local_files_are_written_atomically(tmp_path, monkeypatch):
    # Selected by name (the configs' checkpoint hook); mmengine's own
    # local backend stays as it is.
    assert isinstance(get_file_backend(
        str(tmp_path / 'x.pth'), backend_args=dict(backend='atomic_local')),
                      AtomicLocalBackend)
    assert type(get_file_backend(str(tmp_path / 'x.pth'))) is LocalBackend
    target = tmp_path / 'epoch_1.pth'
    write_atomically(b'complete', target)

    def crash(src, dst):
        raise KeyboardInterrupt('killed while saving')

    monkeypatch.setattr(os, 'replace', crash)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(b'partial' * 1000, target)
    assert target.read_bytes() == b'complete'
    assert os.listdir(tmp_path) == ['epoch_1.pth']  # no temporary left


def test_atomic_files_get_the_permissions_open_would_give(tmp_path):
    """Not mkstemp's 0600: colleagues on a shared cluster read them."""
    previous = os.umask(0o027)
    try:
        write_atomically(b'x', tmp_path / 'group.pth')
        os.umask(0o022)
        write_atomically(b'x', tmp_path / 'world.pth')
    finally:
        os.umask(previous)
    assert (tmp_path / 'group.pth').stat().st_mode & 0o777 == 0o640
    assert (tmp_path / 'world.pth').stat().st_mode & 0o777 == 0o644


def test_full_disk_names_the_file_and_leaves_no_temporary(tmp_path,
                                                          monkeypatch):
    import errno

    def disk_full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, 'fsync', disk_full)
    target = tmp_path / 'epoch_3.pth'
    with pytest.raises(OSError) as error:
        write_atomically(b'weights', target)
    assert error.value.errno == errno.ENOSPC
    assert str(error.value) == (f'[Errno {errno.ENOSPC}] cannot write '
                                f'{target}: No space left on device')
    assert os.listdir(tmp_path) == []


def train_killed_at_a_rename(shapes_root, work_dir, monkeypatch,
                             killed) -> list:
    """Train two epochs in a Runner whose ``os.replace`` is interrupted (as
    by a kill) where ``killed(destinations so far)`` says; returns every
    destination renamed to, the interrupted one last."""
    cfg = tiny_cfg(shapes_root, work_dir, max_epochs=2, val_interval=5)
    # One batch per epoch: the kills land in the saves, not in the steps.
    cfg.train_dataloader.dataset.indices = 8
    runner = Runner.from_cfg(cfg)
    replace = os.replace
    renamed = []

    def replace_or_die(src, dst):
        renamed.append(str(dst))
        if killed(renamed):
            raise KeyboardInterrupt(f'killed while renaming to {dst}')
        return replace(src, dst)

    monkeypatch.setattr(os, 'replace', replace_or_die)
    with pytest.raises(KeyboardInterrupt):
        runner.train()
    monkeypatch.undo()
    return renamed


def test_crash_while_saving_keeps_the_last_checkpoint(shapes_root, tmp_path,
                                                      monkeypatch):
    """A Runner whose save of epoch 2 dies before the rename: epoch 1 stays
    complete and last_checkpoint still names it."""
    train_killed_at_a_rename(
        shapes_root, tmp_path, monkeypatch,
        lambda renamed: osp.basename(renamed[-1]) == 'epoch_2.pth')
    assert not osp.exists(tmp_path / 'epoch_2.pth')
    assert (tmp_path / 'last_checkpoint').read_text() == \
        str(tmp_path / 'epoch_1.pth')
    state = load_checkpoint_file(tmp_path / 'epoch_1.pth', mmap=True)
    assert state['meta']['epoch'] == 1
    assert not [name for name in os.listdir(tmp_path)
                if name.endswith('.tmp')]


def test_last_checkpoint_is_replaced_by_a_rename(shapes_root, tmp_path,
                                                 monkeypatch):
    """mmengine 0.10.7 rewrites last_checkpoint in place (open 'w'); a
    kill while it writes must not leave it empty. The record of epoch 1
    survives a save of epoch 2 that dies while writing the new record."""
    record = str(tmp_path / 'last_checkpoint')
    renamed = train_killed_at_a_rename(
        shapes_root, tmp_path, monkeypatch,
        lambda renamed: renamed.count(record) == 2)
    assert [dst for dst in renamed if dst == record] == [record] * 2
    assert (tmp_path / 'last_checkpoint').read_text() == \
        str(tmp_path / 'epoch_1.pth')
    assert osp.isfile(tmp_path / 'epoch_2.pth')  # saved before the record


# --- non-finite loss ---


class PoisonLoss(Hook):
    """Makes the loss NaN at one iteration and records the weights and the
    weight average after every step."""
    priority = 'LOWEST'

    def __init__(self, iteration):
        self.iteration = iteration
        self.weights, self.averages = [], []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        head = runner.model.head
        if runner.iter + 1 == self.iteration:
            loss = type(head).loss

            def nan_loss(feats, data_samples, **kwargs):
                losses = loss(head, feats, data_samples, **kwargs)
                losses['loss_cls'] = losses['loss_cls'] * float('nan')
                return losses

            head.loss = nan_loss
        else:
            head.__dict__.pop('loss', None)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.weights.append(copy.deepcopy(runner.model.state_dict()))
        ema = [h for h in runner.hooks if isinstance(h, EMAHook)][0]
        self.averages.append(copy.deepcopy(ema.ema_model.state_dict()))


def states_equal(a, b):
    return all(torch.equal(a[key], b[key]) for key in a)


def test_nan_loss_stops_before_the_update(shapes_root, tmp_path):
    cfg = tiny_cfg(shapes_root, tmp_path, max_epochs=1)
    runner = Runner.from_cfg(cfg)
    poison = PoisonLoss(iteration=3)
    runner.register_hook(poison)
    with pytest.raises(NonFiniteLossError) as error:
        runner.train()
    assert str(error.value).startswith(
        'loss is nan at iteration 3 (epoch 1); training stopped before the '
        'update')
    assert len(poison.weights) == 2
    # Neither the weights nor the average moved in iteration 3.
    assert states_equal(runner.model.state_dict(), poison.weights[-1])
    ema = [h for h in runner.hooks if isinstance(h, EMAHook)][0]
    assert states_equal(ema.ema_model.state_dict(), poison.averages[-1])
    assert all(torch.isfinite(v).all()
               for v in runner.model.state_dict().values()
               if v.is_floating_point())


def test_nan_loss_step_is_skipped_when_configured(shapes_root, tmp_path):
    cfg = tiny_cfg(shapes_root, tmp_path, max_epochs=1, val_interval=5)
    cfg.default_hooks.nonfinite_loss.action = 'skip'
    runner = Runner.from_cfg(cfg)
    poison = PoisonLoss(iteration=3)
    runner.register_hook(poison)
    runner.train()
    assert len(poison.weights) == 5
    # Iteration 3 changed nothing, BN statistics included; 4 trained on.
    assert states_equal(poison.weights[2], poison.weights[1])
    assert not states_equal(poison.weights[3], poison.weights[2])
    assert all(torch.isfinite(v).all() for v in poison.weights[-1].values()
               if v.is_floating_point())
