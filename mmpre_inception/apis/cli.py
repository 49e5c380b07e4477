"""What every command-line tool shares: one table from error to exit
status, one-line errors, quiet imports and the process group.

A tool parses its arguments first (``--help`` and usage errors answer in
well under a second), then runs its work inside :func:`command_line`, which
imports nothing heavy itself::

    def main(argv=None) -> int:
        args = parse_args(argv)
        with command_line() as outcome:
            from mmpre_inception.apis import evaluate
            evaluate(...)
        return outcome.status

Every error a user can cause ends as ``error: <one line>`` on stderr with
the status of :data:`mmpre_inception.errors.EXIT_STATUS`: 2 for what was
typed (options, a config, annotation files, files and folders named on the
command line), 1 for what a started run met (a checkpoint's or a result
file's content, an image, a NaN loss, a lost rank, a full disk).
docs/troubleshooting.md lists every message.
"""
import contextlib
import errno
import gc
import sys
from typing import Callable, Iterator, Optional

from mmpre_inception.errors import RUN_FAILED, StalledRankError, exit_status

# Writing failures that a user fixes (space, quota, permissions), not bugs.
_WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES,
                 errno.EPERM)


def _write_failure(error: OSError) -> str:
    # write_atomically names the file in strerror; open() in filename.
    message = f'cannot write {error.filename}: {error.strerror}' \
        if error.filename else error.strerror or str(error)
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        message += ('; everything written before it is complete: free '
                    'space, then run again (training: --resume)')
    elif error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        message += '; choose a writable folder (--work-dir, --out)'
    return message


def tool_parser(doc: str, **kwargs):
    """An ``ArgumentParser`` whose description is the first line of a
    tool's docstring and whose epilog is the rest, printed as written (its
    examples keep their line breaks and ``\\`` continuations).

    Example:
        >>> parser = tool_parser(__doc__)
    """
    import argparse
    first, _, rest = doc.strip().partition('\n')
    return argparse.ArgumentParser(
        description=first, epilog=rest.strip() or None,
        formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs)


def add_cfg_options(parser) -> None:
    """mmengine's ``--cfg-options KEY=VALUE ...``, as every tool takes it
    (``load_config`` checks each key and value against the config).

    Example:
        >>> add_cfg_options(tool_parser(__doc__))
    """
    from mmengine.config import DictAction
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        metavar='KEY=VALUE',
                        help='override config keys, e.g. '
                        'train_dataloader.batch_size=16; a typo or a value '
                        'of the wrong type is one line naming the key')


def parse_distributed_args(parser, argv=None):
    """Add mmpretrain's ``--launcher`` and ``--local-rank`` to a training
    or test tool's ``parser`` and parse ``argv``. A launcher that passes
    ``--local-rank`` instead of setting ``LOCAL_RANK`` gets it set.

    Example:
        >>> args = parse_distributed_args(tool_parser(__doc__), [])
    """
    import os
    parser.add_argument('--launcher',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def int_in(low: int, high: Optional[int] = None) -> Callable[[str], int]:
    """An ``argparse`` type: an integer from ``low`` to ``high`` (no upper
    bound for None), so that ``--seed -3`` or ``--display-size 10**9`` is a
    usage error naming the option, not a traceback or a run out of memory
    later.

    Example:
        >>> int_in(0, 2**32 - 1)('42')
        42
    """
    import argparse

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f'{text!r} is not an integer') from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(
                f'{value}: give {low} or more' if high is None else
                f'{value}: give an integer from {low} to {high}')
        return value

    parse.__name__ = 'int'
    return parse


#: ``--topk 0`` is a usage error, not an ``IndexError`` later.
positive_int = int_in(1)
#: Seeds numpy and torch accept.
seed_int = int_in(0, 2**32 - 1)
#: The smallest input side of Inception V3
#: (``models.backbones.inception_v3.MIN_INPUT_SIZE``; tools' options are
#: parsed before the models are imported).
MIN_SIDE = 75
#: An image side a tool may allocate pictures or inputs of (16 M pixels).
MAX_SIDE = 4096


def _finite_number(text: str, zero_allowed: bool) -> float:
    import argparse
    import math
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'{text!r} is not a number') from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f'{value}: give a finite number')
    if value < 0 or (value == 0 and not zero_allowed):
        raise argparse.ArgumentTypeError(
            f'{value}: give 0 or more' if zero_allowed else
            f'{value}: give a number over 0')
    return value


def positive_float(text: str) -> float:
    """An ``argparse`` type: a finite number over 0 (a scale, a spread).

    Example:
        >>> positive_float('0.5')
        0.5
    """
    return _finite_number(text, zero_allowed=False)


def non_negative_float(text: str) -> float:
    """An ``argparse`` type: a finite number of 0 or more (a wait).

    Example:
        >>> non_negative_float('0')
        0.0
    """
    return _finite_number(text, zero_allowed=True)


class Outcome:
    """The exit status :func:`command_line` settles on."""

    def __init__(self) -> None:
        self.status = 0


@contextlib.contextmanager
def command_line(register_modules: bool = False) -> Iterator[Outcome]:
    """Run a tool's work: known warnings silenced, each error of
    :data:`~mmpre_inception.errors.EXIT_STATUS` (and a failed write)
    printed as one line with its status in ``outcome.status``; any other
    error is a bug and propagates with its traceback.

    Args:
        register_modules (bool): Register this package's and mmpretrain's
            modules first, without setting a default scope (the config's
            ``default_scope`` stays in charge), for a tool that builds a
            config's ``type`` names. Defaults to False.

    Example:
        >>> with command_line() as outcome:
        ...     pass
        >>> outcome.status
        0
    """
    # Before the work's imports: mmcv warns once on import.
    import warnings
    warnings.filterwarnings(
        'ignore', message='Fail to import ``MultiScaleDeformableAttention``')
    outcome = Outcome()
    try:
        if register_modules:
            from mmpre_inception import register_all_modules
            register_all_modules(init_default_scope=False)
        yield outcome
    except Exception as error:  # matched against the table, else re-raised
        status = _status_of(error)
        if status is None:
            raise
        from mmpre_inception.utils import one_line_message
        message = _write_failure(error) if isinstance(error, OSError) \
            else one_line_message(error)
        print(f'error: {message}', file=sys.stderr)
        outcome.status = status


def _status_of(error: Exception) -> Optional[int]:
    if isinstance(error, OSError) and error.errno in _WRITE_ERRNOS:
        return RUN_FAILED
    return exit_status(error)


@contextlib.contextmanager
def process_group(launcher: str,
                  timeout_s: Optional[float] = None) -> Iterator[None]:
    """The run's process group, from start to a clean end.

    Without GPUs the gloo group starts here (mmengine's start-up needs
    CUDA); it is destroyed at the end, after the Runner inside is dropped
    (gloo aborts a process whose group is torn down at exit). A collective
    that times out or loses its peer becomes a
    :class:`~mmpre_inception.errors.StalledRankError` naming the rank that
    stopped. A worker that torchrun started ends with it
    (:func:`~mmpre_inception.utils.end_with_launcher`).

    For the run, the objects that exist as it starts (the imports', about
    420,000 with torch, mmengine and mmpretrain) are kept out of the
    garbage collector (``gc.freeze``). mmengine's datasets call
    ``gc.collect()`` as they are built, and Python makes a full collection
    every so often; each walked all of them (0.2 s on a 2-core CPU; 0.6 s
    of the tests' 12-second training run). Frozen, they are also left
    alone by the collections of data-loader workers forked from this
    process, whose memory pages then stay shared (the use the ``gc``
    module's documentation gives). They are given back at the end, for
    the interpreter's shutdown and a caller that runs tools in its own
    process, unless that caller had frozen objects itself.

    Args:
        launcher (str): ``--launcher``.
        timeout_s (float, optional): The config's
            ``env_cfg.dist_cfg.timeout``, seconds.
    """
    from mmpre_inception.engine import name_stalled_ranks
    from mmpre_inception.utils import (end_with_launcher,
                                       init_cpu_distributed,
                                       shutdown_distributed)
    if launcher == 'pytorch':  # a worker of torchrun's agent
        end_with_launcher()
    init_cpu_distributed(launcher, timeout_s)
    frozen_by_the_caller = gc.get_freeze_count()
    gc.freeze()
    try:
        yield
    except RuntimeError as error:
        stalled = name_stalled_ranks(error, timeout_s)
        if stalled is None:
            raise
        raise StalledRankError(stalled) from None
    finally:
        # Before the objects are given back: the collection that frees the
        # Runner's cycles then walks only what the run made (0.3 s less).
        try:
            shutdown_distributed()
        finally:
            if not frozen_by_the_caller:  # theirs to give back
                gc.unfreeze()
