"""A progress line every few seconds, whatever the logging interval."""
import time
from typing import Dict

from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmpre_inception.registry import HOOKS


@HOOKS.register_module()
class ProgressHook(Hook):
    """Log ``test: 320/1000 images, 14.2 img/s, 48 s left`` at most every
    ``interval_s`` seconds of training, validation and test.

    mmengine's ``LoggerHook`` logs every N iterations: an evaluation of 1000
    images (32 iterations) at interval 100 shows nothing until the end, and
    a CPU training step can take seconds. This hook is time-based instead.

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

    # mmengine's Hook calls these for training, validation and test alike.
    def _before_epoch(self, runner, mode: str = 'train') -> None:
        now = time.monotonic()
        dataset = getattr(runner, f'{mode}_dataloader').dataset
        self._state[mode] = dict(start=now, last=now, done=0,
                                 total=len(dataset))

    def _after_iter(self, runner, batch_idx: int, data_batch=None,
                    outputs=None, mode: str = 'train') -> None:
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
