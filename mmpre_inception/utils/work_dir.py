"""The work directory of a training run: one run at a time, and the
checkpoint ``--resume`` continues from."""
import fcntl
import glob
import os
import os.path as osp
import re
from typing import IO, Optional

from mmengine.logging import print_log

from .config import ConfigError

_CHECKPOINT = re.compile(r'(epoch|iter)_(\d+)\.pth')


def _is_first_process() -> bool:
    # Every rank of a distributed run shares the work dir; rank 0 holds it.
    return int(os.environ.get('RANK', os.environ.get('SLURM_PROCID',
                                                     '0'))) == 0


def lock_work_dir(work_dir: str) -> Optional[IO]:
    """Hold ``work_dir`` for this run until the process ends, and remove
    temporary files that a killed save left there.

    Two runs in one work dir would interleave one log and overwrite each
    other's checkpoints. The lock is an ``flock`` on ``work_dir/.lock``,
    which the system releases when the process ends, however it ends.

    Args:
        work_dir (str): The run's work directory (created if missing).

    Returns:
        file | None: The open lock file (keep it open for the run); None on
        ranks other than 0.

    Raises:
        ConfigError: Another run holds the work dir; names its pid.

    Example:
        >>> lock = lock_work_dir('work_dirs/demo')  # doctest: +SKIP
    """
    if not _is_first_process():
        return None
    os.makedirs(work_dir, exist_ok=True)
    lock = open(osp.join(work_dir, '.lock'), 'a+')
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or 'unknown'
        lock.close()
        raise ConfigError(
            f'another training run (pid {holder}) is using the work dir '
            f'{work_dir}: wait for it to finish, or give another '
            '--work-dir') from None
    lock.seek(0)
    lock.truncate()
    lock.write(f'{os.getpid()}\n')
    lock.flush()
    # Only a run that died while saving leaves these (write_atomically's
    # temporary files), and no other run can be writing here now.
    for stale in glob.glob(osp.join(work_dir, '.*.pth.*.tmp')):
        os.remove(stale)
    return lock


def latest_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` continues from: the newest complete
    ``epoch_N.pth`` / ``iter_N.pth`` of the work dir.

    mmengine's record, ``last_checkpoint``, names it, except where the run
    ended between a checkpoint's save and the record's update (a
    preemption's SIGTERM can fall there): a numbered checkpoint saved after
    the one the record names is then taken, and the log says so. Numbered
    files older than the record's (left by an earlier, longer run in the
    same work dir) are not. Where the record is missing, empty or names a
    file that is gone, the highest-numbered file. Saves are atomic
    (``checkpoint.write_atomically``), so every such file is complete; the
    best checkpoints (``best_*.pth``), which hold no training state, are
    never taken.

    Args:
        work_dir (str): The run's work directory.

    Returns:
        str | None: The checkpoint path, or None when there is none.

    Example:
        >>> latest_checkpoint('work_dirs/demo')  # doctest: +SKIP
        'work_dirs/demo/epoch_3.pth'
    """
    record = osp.join(work_dir, 'last_checkpoint')
    named = ''
    if osp.isfile(record):
        with open(record) as f:
            named = f.read().strip()
    found = [(int(match.group(2)), path)
             for path in glob.glob(osp.join(work_dir, '*.pth'))
             for match in [_CHECKPOINT.fullmatch(osp.basename(path))]
             if match]
    if named and osp.isfile(named):
        recorded = osp.getmtime(named)
        saved_after = [(saved, path) for _, path in found
                       for saved in [osp.getmtime(path)] if saved > recorded]
        if not saved_after:
            return named
        newest = max(saved_after)[1]
        print_log(
            f'{record} names {named}, but {newest} was saved after it (the '
            'run ended before the record was updated); resuming from '
            f'{newest}', logger='current', level=30)
        return newest
    if not found:
        return None
    newest = max(found)[1]
    print_log(
        f'{record} is missing, empty or names a file that is gone '
        f'({named!r}); resuming from the newest checkpoint, {newest}',
        logger='current', level=30)
    return newest
