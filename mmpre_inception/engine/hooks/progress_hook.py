"""A progress line every few seconds, whatever the logging interval; and
each rank's progress where a timed-out rank can read it."""
import time
from typing import Dict, Optional

import torch.distributed as dist

from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmpre_inception.errors import StalledRankError  # noqa: F401
from mmpre_inception.registry import HOOKS


@HOOKS.register_module()
class ProgressHook(Hook):
    """Log ``test: 320/1000 images, 14.2 img/s, 48 s left`` at most every
    ``interval_s`` seconds of training, validation and test.

    mmengine's ``LoggerHook`` logs every N iterations: an evaluation of 1000
    images (32 iterations) at interval 100 shows nothing until the end, and
    a CPU training step can take seconds. This hook is time-based instead.

    In a distributed run each rank also records how many iterations of the
    current loop it has started in the process group's key-value store,
    so that when a collective times out, :func:`name_stalled_ranks` can say
    which rank stopped.

    Args:
        interval_s (float): Seconds between lines. Defaults to 10.

    Example:
        >>> default_hooks = dict(progress=dict(type=ProgressHook,
        ...                                    interval_s=10))
    """
    priority = 'BELOW_NORMAL'

    def __init__(self, interval_s: float = 10.0) -> None:
        self.interval_s = interval_s
        self._state: Dict[str, dict] = {}

    def _start(self, mode: str, dataloader) -> None:
        now = time.monotonic()
        self._state[mode] = dict(start=now, last=now, done=0, iters=0,
                                 total=len(dataloader.dataset))
        if dist.is_available() and dist.is_initialized():
            # A new loop: the previous epoch's count must not look ahead.
            _store().set(f'{_PROGRESS_KEY}/{mode}/{dist.get_rank()}', '0')

    def _step(self, mode: str, data_batch) -> None:
        state = self._state.get(mode)
        if state is None:
            return
        if isinstance(data_batch, dict):
            # Every rank reads its share of the data set at the same pace.
            state['done'] += get_world_size() * (
                len(data_batch.get('inputs', ())) +
                int(data_batch.get('unreadable', 0)))
        now = time.monotonic()
        if now - state['last'] < self.interval_s:
            return
        state['last'] = now
        done, total = min(state['done'], state['total']), state['total']
        rate = done / max(now - state['start'], 1e-9)
        left = (total - done) / rate if rate > 0 else float('inf')
        print_log(f'{mode}: {done}/{total} images, {rate:.1f} img/s, '
                  f'{_duration(left)} left', logger='current')

    def _record_start(self, mode: str) -> None:
        """Count the iteration this rank starts, in the process group's
        store, after its batch has arrived."""
        state = self._state.get(mode)
        if state is None or not (dist.is_available()
                                 and dist.is_initialized()):
            return
        state['iters'] += 1
        _store().set(f'{_PROGRESS_KEY}/{mode}/{dist.get_rank()}',
                     str(state['iters']))

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._record_start('train')

    def before_val_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._record_start('val')

    def before_test_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._record_start('test')

    def before_train_epoch(self, runner) -> None:
        self._start('train', runner.train_dataloader)

    def before_val_epoch(self, runner) -> None:
        self._start('val', runner.val_dataloader)

    def before_test_epoch(self, runner) -> None:
        self._start('test', runner.test_dataloader)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self._step('train', data_batch)

    def after_val_iter(self, runner, batch_idx, data_batch=None,
                       outputs=None) -> None:
        self._step('val', data_batch)

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None) -> None:
        self._step('test', data_batch)


def _duration(seconds: float) -> str:
    if seconds == float('inf'):
        return 'unknown time'
    seconds = int(round(seconds))
    if seconds < 60:
        return f'{seconds} s'
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f'{minutes} min {seconds:02d} s'
    hours, minutes = divmod(minutes, 60)
    return f'{hours} h {minutes:02d} min'


_PROGRESS_KEY = 'mmpre_inception/iterations'


def _store():
    # The rendezvous store of the default process group: a key-value
    # service of its own, which still answers when gloo's connections
    # have closed on a timeout. torch has no public accessor for it.
    return dist.distributed_c10d._get_default_store()


def iterations_done(mode: str) -> Dict[int, int]:
    """Iterations of the ``mode`` loop (``'train'``, ``'val'``, ``'test'``)
    each rank has started, as recorded (see :class:`ProgressHook`); empty outside a
    distributed run."""
    if not (dist.is_available() and dist.is_initialized()):
        return {}
    store, done = _store(), {}
    for rank in range(dist.get_world_size()):
        key = f'{_PROGRESS_KEY}/{mode}/{rank}'
        if store.check([key]):
            done[rank] = int(store.get(key))
    return done


#: What gloo and NCCL say when a collective waits too long, and when a
#: peer's process (or its node) is gone.
_LOST_PEER = ('timed out', 'timeout', 'connection closed by peer',
              'connection reset by peer', 'broken pipe', 'connection refused')


def name_stalled_ranks(error: BaseException,
                       timeout_s: Optional[float] = None) -> Optional[str]:
    """For a collective that timed out, a message naming the ranks that
    fell behind.

    gloo's timeout names neither rank nor peer, and once it has fired its
    connections are closed. ``ProgressHook`` leaves every rank's progress
    in the process group's key-value store, which still answers.

    Args:
        error (BaseException): What the run raised.
        timeout_s (float, optional): The config's
            ``env_cfg.dist_cfg.timeout``, for the message.

    Returns:
        str | None: One line naming the ranks behind (or saying that they
        are not known); None when ``error`` is no timeout of a process
        group.
    """
    text = str(error).lower()
    if not any(sign in text for sign in _LOST_PEER) or not (
            dist.is_available() and dist.is_initialized()):
        return None
    if 'time' not in text:
        waited = 'a distributed operation lost its connection to a rank: '
    elif timeout_s is not None:
        waited = (f'a distributed operation waited {timeout_s:g} s '
                  '(env_cfg.dist_cfg.timeout) for the other ranks: ')
    else:
        waited = ('a distributed operation timed out waiting for the other '
                  'ranks: ')
    for mode in ('test', 'val', 'train'):
        done = iterations_done(mode)
        if len(set(done.values())) > 1:
            ahead = max(done.values())
            behind = sorted(rank for rank, count in done.items()
                            if count < ahead)
            names = ', '.join(str(rank) for rank in behind)
            return (f'{waited}rank{"s" if len(behind) > 1 else ""} {names} '
                    f'stopped answering in {mode} iteration '
                    f'{min(done[r] for r in behind) + 1}; the others '
                    f'started iteration {ahead}')
    return f'{waited}a rank stopped answering (which one is not recorded)'
