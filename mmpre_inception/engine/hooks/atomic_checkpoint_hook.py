"""Checkpoints and ``last_checkpoint`` written whole or not at all."""
import os
import os.path as osp
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from mmpre_inception.checkpoint import write_atomically
from mmpre_inception.registry import HOOKS


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

    # mmengine's private CHECKPOINT_HOOK_SAVE (engine/private_apis.py).
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
