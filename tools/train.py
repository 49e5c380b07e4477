"""Train a model from a config, as mmpretrain's ``tools/train.py`` does.

Example:
    python tools/train.py configs/inception_v3_8xb32_in1k.py
    python tools/train.py CONFIG --resume            # from the last checkpoint
    bash tools/dist_train.sh CONFIG 8                # 8 GPUs
"""
import argparse
import sys

from mmengine.config import DictAction
from mmengine.runner import Runner

import mmpre_inception  # noqa: F401 (checkpoint allow-list)
import mmpre_inception.models  # noqa: F401 (registers our modules)
from mmpre_inception.utils import (ConfigError, adapt_to_machine,
                                   add_launcher_arguments, default_work_dir,
                                   init_cpu_distributed, load_config,
                                   parse_tool_args, shutdown_distributed)


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
        '--amp', action='store_true', help='mixed-precision training')
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
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. train_cfg.max_epochs=10')
    add_launcher_arguments(parser)
    return parse_tool_args(parser, argv)


def merge_args(cfg, args):
    """Apply the command-line options to the config."""
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.launcher = args.launcher
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or default_work_dir(
        args.config)
    if args.amp:
        import torch
        if not torch.cuda.is_available():
            raise ConfigError(
                '--amp needs a CUDA GPU (mmengine AmpOptimWrapper); none '
                'is available on this machine.')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if not loader:
            continue
        if args.no_pin_memory:
            loader['pin_memory'] = False
        if args.no_persistent_workers:
            loader['persistent_workers'] = False
    return adapt_to_machine(cfg)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        cfg = merge_args(load_config(args.config, args.cfg_options), args)
    except ConfigError as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    init_cpu_distributed(args.launcher)
    try:
        Runner.from_cfg(cfg).train()
    finally:
        shutdown_distributed()
    return 0


if __name__ == '__main__':
    sys.exit(main())
