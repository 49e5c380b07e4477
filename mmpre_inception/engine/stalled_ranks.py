"""Which rank stopped answering, when a collective times out or loses its
peer: each rank records the iterations it starts in the process group's
key-value store (:class:`~mmpre_inception.engine.RankProgressHook`), which
still answers after gloo's connections have closed."""
from typing import Dict, Optional

import torch.distributed as dist

from .private_apis import default_store

_PROGRESS_KEY = 'mmpre_inception/iterations'


def record_iterations(mode: str, count: int) -> None:
    """Record that this rank has started ``count`` iterations of the
    ``mode`` loop (0 at its start); nothing outside a distributed run."""
    store = default_store()
    if store is not None:
        store.set(f'{_PROGRESS_KEY}/{mode}/{dist.get_rank()}', str(count))


def iterations_done(mode: str) -> Dict[int, int]:
    """Iterations of the ``mode`` loop (``'train'``, ``'val'``, ``'test'``)
    each rank has started, as :func:`record_iterations` recorded them;
    empty outside a distributed run."""
    store, done = default_store(), {}
    if store is None:
        return done
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
    connections are closed. ``RankProgressHook`` leaves every rank's
    progress in the process group's key-value store, which still answers.

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
