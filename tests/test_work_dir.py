"""One run per work dir, and --resume from what the work dir holds."""
import os
import time
from unittest import mock

import pytest
from helpers.tools import TINY_CONFIG, call_tool

from mmpre_inception.utils import (ConfigError, latest_checkpoint,
                                   lock_work_dir)


@pytest.mark.parametrize('record', ['', '\n', 'GONE'])
def test_resume_finds_the_newest_checkpoint_when_the_record_is_bad(
        tmp_path, record):
    for name in ('epoch_2.pth', 'epoch_10.pth', 'epoch_9.pth', 'other.pth',
                 'best_accuracy_top1_epoch_12.pth'):
        (tmp_path / name).write_bytes(b'x')
    (tmp_path / 'last_checkpoint').write_text(
        str(tmp_path / 'epoch_11.pth') if record == 'GONE' else record)
    assert latest_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_10.pth')


def saved(path, seconds_ago: float) -> str:
    path.write_bytes(b'x')
    when = time.time() - seconds_ago
    os.utime(path, (when, when))
    return str(path)


def test_resume_trusts_a_good_record_and_finds_nothing_in_an_empty_dir(
        tmp_path):
    assert latest_checkpoint(str(tmp_path)) is None
    # iter_8 is an earlier, longer run's: older than the record's iter_4
    saved(tmp_path / 'iter_8.pth', seconds_ago=60)
    recorded = saved(tmp_path / 'iter_4.pth', seconds_ago=30)
    saved(tmp_path / 'best_accuracy_top1_iter_4.pth', seconds_ago=1)
    (tmp_path / 'last_checkpoint').write_text(recorded)
    assert latest_checkpoint(str(tmp_path)) == recorded


def test_resume_takes_a_checkpoint_saved_after_the_record(tmp_path):
    """A run stopped between epoch_2.pth's save and the record's update
    resumes from epoch_2.pth, and says why."""
    recorded = saved(tmp_path / 'epoch_1.pth', seconds_ago=30)
    newest = saved(tmp_path / 'epoch_2.pth', seconds_ago=10)
    (tmp_path / 'last_checkpoint').write_text(recorded)
    with mock.patch('mmpre_inception.utils.work_dir.print_log') as log:
        assert latest_checkpoint(str(tmp_path)) == newest
    message = log.call_args.args[0]
    assert message == (
        f'{tmp_path / "last_checkpoint"} names {recorded}, but {newest} was '
        'saved after it (the run ended before the record was updated); '
        f'resuming from {newest}')


def test_work_dir_lock_removes_what_a_killed_save_left(tmp_path):
    stale = tmp_path / '.epoch_2.pth.k3j4.tmp'
    stale.write_bytes(b'partial')
    lock = lock_work_dir(str(tmp_path))
    try:
        assert not stale.exists()
        assert (tmp_path / '.lock').read_text() == f'{os.getpid()}\n'
    finally:
        lock.close()


def test_second_training_run_in_the_same_work_dir_is_refused(tmp_path,
                                                             tiny_options):
    """The lock is held here, as a first run would hold it; train.py then
    stops before it writes anything."""
    lock = lock_work_dir(str(tmp_path))
    try:
        result = call_tool('tools/train.py', TINY_CONFIG, '--work-dir',
                           str(tmp_path), *tiny_options())
        with pytest.raises(ConfigError, match='is using the work dir'):
            lock_work_dir(str(tmp_path))
    finally:
        lock.close()
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f'error: another training run (pid {os.getpid()}) is using the work '
        f'dir {tmp_path}: wait for it to finish, or give another --work-dir')
    assert sorted(os.listdir(tmp_path)) == ['.lock']
