"""Hooks that make the Runner's checkpoints safe to read and to write."""
import copy
import os
import os.path as osp
from typing import Optional

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook, EMAHook, Hook
from mmengine.logging import print_log
from mmengine.runner import BaseLoop
from mmengine.runner.checkpoint import load_state_dict

from mmpre_inception.checkpoint import (mmengine_checkpoint_globals,
                                        write_atomically)
from mmpre_inception.registry import HOOKS

from ..weight_average import MultiTensorEMA


@HOOKS.register_module()
class MMEngineSafeGlobalsHook(Hook):
    """Lets the Runner's own loads (``load_from``, ``resume``) read the
    checkpoints mmengine writes with ``torch.load(weights_only=True)``.

    torch refuses the message-hub types a Runner checkpoint carries, so
    ``--resume`` would fail; unpickling without restriction would run any
    code a file carries. From ``before_run`` (which mmengine calls before
    it loads) to ``after_run`` the allow-list of
    :func:`~mmpre_inception.checkpoint.mmengine_checkpoint_globals` is
    added to torch's; afterwards torch's list is as it was.

    Example:
        >>> default_hooks = dict(safe_globals=dict(
        ...     type=MMEngineSafeGlobalsHook))
    """
    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._saved: Optional[list] = None

    def before_run(self, runner) -> None:
        self._saved = torch.serialization.get_safe_globals()
        torch.serialization.add_safe_globals(mmengine_checkpoint_globals())

    def after_run(self, runner) -> None:
        if self._saved is not None:
            torch.serialization.clear_safe_globals()
            torch.serialization.add_safe_globals(self._saved)
            self._saved = None


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` whose files are all written through a
    temporary file and a rename, so a crash or a full disk never leaves a
    truncated checkpoint or an empty ``last_checkpoint``.

    Checkpoints go through the ``'atomic_local'`` file backend (the default
    ``backend_args`` here). mmengine 0.10.7 writes ``last_checkpoint`` with
    ``open(path, 'w')`` whatever the backend, so that one write is redone
    here; the rest of the save is mmengine's.

    Args:
        backend_args (dict, optional): mmengine's file backend arguments.
            Defaults to ``dict(backend='atomic_local')``.
        **kwargs: ``CheckpointHook``'s arguments.

    Example:
        >>> default_hooks = dict(checkpoint=dict(
        ...     type=AtomicCheckpointHook, interval=1, max_keep_ckpts=3))
    """

    def __init__(self, *args, backend_args: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(
            *args,
            backend_args=backend_args or dict(backend='atomic_local'),
            **kwargs)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        # mmengine writes last_checkpoint into runner.work_dir with
        # open('w'): a kill in that instant leaves it empty. It is given a
        # private folder instead, and the record moves into place with a
        # rename; everything else (the checkpoint's own path, the message
        # hub, max_keep_ckpts) is the real runner's.
        staging = osp.join(runner.work_dir, '.last_checkpoint.d')
        os.makedirs(staging, exist_ok=True)
        super()._save_checkpoint_with_step(
            _WithWorkDir(runner, staging), step, meta)
        staged = osp.join(staging, 'last_checkpoint')
        if is_main_process() and osp.isfile(staged):
            with open(staged, 'rb') as f:
                write_atomically(f.read(),
                                 osp.join(runner.work_dir, 'last_checkpoint'))


class _WithWorkDir:
    """``runner`` with another ``work_dir``; every other attribute is the
    runner's own."""

    def __init__(self, runner, work_dir: str) -> None:
        self._runner = runner
        self.work_dir = work_dir

    def __getattr__(self, name: str):
        return getattr(self._runner, name)


@HOOKS.register_module()
class TrainValEMAHook(EMAHook):
    """mmengine's ``EMAHook`` for training and validation only.

    A checkpoint without ``ema_state_dict`` (a state dict, a fine-tuning
    start) starts the average from its weights, with one log line. The
    average is :class:`~mmpre_inception.engine.MultiTensorEMA` unless
    ``ema_type`` names another.

    Checkpoints already hold the averaged weights as their ``state_dict``
    (``EMAHook`` swaps them in before saving), so a test run evaluates them
    as loaded; swapping again there would only cost time, and would break
    on a model whose BatchNorm was folded for the test
    (:class:`FoldBatchNormHook`). Arguments are ``EMAHook``'s.

    Example:
        >>> custom_hooks = [dict(type=TrainValEMAHook, momentum=1e-4)]
    """

    def __init__(self, ema_type=MultiTensorEMA, **kwargs) -> None:
        super().__init__(ema_type=ema_type, **kwargs)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # A test run evaluates the checkpoint's weights as loaded; the
        # average only matters to a run that trains.
        if not isinstance(runner._train_loop, BaseLoop):
            return
        if 'ema_state_dict' in checkpoint and runner._resume:
            super().after_load_checkpoint(runner, checkpoint)
            return
        # mmengine warns only when resuming, and not at all for load_from.
        print_log('The weight average starts from the loaded weights (the '
                  'checkpoint has no ema_state_dict).', logger='current')
        load_state_dict(self.ema_model.module,
                        copy.deepcopy(checkpoint['state_dict']),
                        strict=self.strict_load)

    def before_test_epoch(self, runner) -> None:
        pass

    def after_test_epoch(self, runner, metrics=None) -> None:
        pass
