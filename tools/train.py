"""Train a model from a config, as mmpretrain's ``tools/train.py`` does.

Example:
    python tools/train.py configs/inception_v3_8xb32_in1k.py
    python tools/train.py CONFIG --resume            # from the last checkpoint
    bash tools/dist_train.sh CONFIG 8                # 8 GPUs
"""
import argparse
import errno
import os
import sys

from mmengine.config import DictAction


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a classifier')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint, or without a path from the '
        'last checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed-precision training: float16 with loss scaling on a '
        'GPU, bfloat16 on a CPU (see --amp-dtype)')
    parser.add_argument(
        '--amp-dtype',
        choices=['float16', 'bfloat16'],
        help='--amp precision; default float16 on a GPU, bfloat16 on a CPU '
        '(CPUs have no float16 autocast)')
    parser.add_argument(
        '--nchw',
        action='store_true',
        help='keep weights and inputs in the NCHW memory format (the '
        'configs use channels-last, which trains faster)')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='skip validation during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate with the real total batch size')
    parser.add_argument(
        '--no-pin-memory',
        action='store_true',
        help='do not pin memory in the data loaders')
    parser.add_argument(
        '--no-persistent-workers',
        action='store_true',
        help='do not keep data loader workers between epochs')
    parser.add_argument(
        '--skip-unreadable',
        action='store_true',
        help='skip (and log) unreadable images instead of stopping')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. train_cfg.max_epochs=10')
    parser.add_argument('--launcher',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none',
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    # Launchers that pass --local-rank instead of setting LOCAL_RANK.
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


if __name__ == '__main__':
    # --help and usage errors answer before the imports below, which take
    # seconds (torch, mmpretrain); main() parses the arguments again.
    parse_args()

# The imports that take seconds, after the early parse above.
from mmpre_inception.utils import silence_known_warnings  # noqa: E402

silence_known_warnings()

from mmengine.runner import Runner  # noqa: E402

from mmpre_inception.checkpoint import (  # noqa: E402
    CheckpointError, checkpoint_errors_named)
from mmpre_inception.datasets import (  # noqa: E402
    AnnotationError, UnreadableImageError, check_config_annotations)
from mmpre_inception.engine import (  # noqa: E402
    NonFiniteLossError, enable_skip_unreadable, name_stalled_ranks)
from mmpre_inception.registry import RUNNERS  # noqa: E402
from mmpre_inception.utils import (  # noqa: E402
    ConfigError, check_config_runs_here, default_work_dir,
    init_cpu_distributed, latest_checkpoint, load_config, lock_work_dir,
    one_line_message, shutdown_distributed)


def set_mixed_precision(optim_wrapper, dtype=None):
    """Switch ``optim_wrapper`` to autocast training in place.

    On a GPU: mmengine's ``AmpOptimWrapper`` (float16 with dynamic loss
    scaling, or bfloat16). On a CPU, where that wrapper refuses to run and
    autocast has only bfloat16: our ``AutocastOptimWrapper``.
    """
    import torch
    if torch.cuda.is_available():
        optim_wrapper.type = 'AmpOptimWrapper'
        optim_wrapper.setdefault('loss_scale', 'dynamic')
        if dtype:
            optim_wrapper.dtype = dtype
    elif dtype == 'float16':
        raise ConfigError('--amp-dtype float16 needs a CUDA GPU; on a CPU '
                          'use bfloat16 (the default there)')
    else:
        optim_wrapper.type = 'mmpre_inception.engine.AutocastOptimWrapper'
        optim_wrapper.dtype = 'bfloat16'


def merge_args(cfg, args):
    """Apply the command-line options to the config."""
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.launcher = args.launcher
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or default_work_dir(
        args.config)
    if args.amp_dtype and not args.amp:
        raise ConfigError('--amp-dtype needs --amp')
    if args.amp:
        set_mixed_precision(cfg.optim_wrapper, args.amp_dtype)
    if args.nchw:
        cfg.model.channels_last = False
    if args.resume == 'auto':
        # mmengine trusts last_checkpoint alone; an empty one (a save
        # killed while writing it) would make it start from scratch.
        cfg.resume, cfg.load_from = True, latest_checkpoint(cfg.work_dir)
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    if args.skip_unreadable:
        enable_skip_unreadable(cfg)
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if not loader:
            continue
        if args.no_pin_memory:
            loader['pin_memory'] = False
        if args.no_persistent_workers:
            loader['persistent_workers'] = False
    check_config_runs_here(cfg)
    return cfg


def train(cfg) -> None:
    """Build the Runner and train; the Runner (and its DDP wrapper) is
    released on return. The model checks the weights the Runner loads
    (``load_from``, ``--resume``) as it loads them."""
    # As mmpretrain's tools: the config's runner_type, if it names one.
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else \
        Runner.from_cfg(cfg)
    with checkpoint_errors_named(cfg.get('load_from')):
        runner.train()


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        cfg = merge_args(load_config(args.config, args.cfg_options), args)
        check_config_annotations(cfg, ('train_dataloader', 'val_dataloader'),
                                 missing_images_ok=args.skip_unreadable)
        work_dir_lock = lock_work_dir(cfg.work_dir)  # noqa: F841 (held)
    except (ConfigError, AnnotationError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    timeout_s = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('timeout')
    init_cpu_distributed(args.launcher, timeout_s)
    try:
        train(cfg)
    except (CheckpointError, UnreadableImageError,
            NonFiniteLossError) as error:
        print(f'error: {one_line_message(error)}', file=sys.stderr)
        return 1
    except RuntimeError as error:
        stalled = name_stalled_ranks(error, timeout_s)
        if stalled is None:
            raise
        print(f'error: {stalled}', file=sys.stderr)
        return 1
    except OSError as error:
        if error.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        print(f'error: {error.strerror}; the checkpoints before it are '
              'complete: free space, then continue with --resume',
              file=sys.stderr)
        return 1
    finally:
        shutdown_distributed()
    return 0


if __name__ == '__main__':
    sys.exit(main())
