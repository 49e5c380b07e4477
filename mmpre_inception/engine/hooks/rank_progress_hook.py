"""Each rank's progress, where a timed-out rank can read it."""
from typing import Dict

from mmengine.hooks import Hook

from mmpre_inception.registry import HOOKS

from ..stalled_ranks import record_iterations


@HOOKS.register_module()
class RankProgressHook(Hook):
    """In a distributed run, records how many iterations of the current
    loop this rank has started, after its batch has arrived, in the process
    group's key-value store, so that when a collective times out (or loses
    its peer) :func:`~mmpre_inception.engine.name_stalled_ranks` can say
    which rank stopped. Outside a distributed run it does nothing.

    Example:
        >>> default_hooks = dict(rank_progress=dict(type=RankProgressHook))
    """
    priority = 'BELOW_NORMAL'

    def __init__(self) -> None:
        self._started: Dict[str, int] = {}

    def _before_epoch(self, runner, mode: str = 'train') -> None:
        # A new loop: the previous epoch's count must not look ahead.
        self._started[mode] = 0
        record_iterations(mode, 0)

    def _before_iter(self, runner, batch_idx: int, data_batch=None,
                     mode: str = 'train') -> None:
        self._started[mode] = self._started.get(mode, 0) + 1
        record_iterations(mode, self._started[mode])
