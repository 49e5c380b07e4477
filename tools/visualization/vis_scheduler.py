"""The learning rate and momentum of a config over a whole run, without
training: the config's optimizer and ``param_scheduler`` stepped as
mmengine's ``ParamSchedulerHook`` steps them, once per iteration.

The epoch length is the training set's size over the total batch
(``train_dataloader.batch_size`` x ``--ngpus``). Give ``--dataset-size``
(ImageNet-1k's training set: 1281167), or the tool builds the config's
training set to count it. Errors are one line on stderr, exit status 2.

Example:
    python tools/visualization/vis_scheduler.py \\
        configs/inception_v3_8xb32_in1k.py --dataset-size 1281167 \\
        --ngpus 8 --out lr.png
"""
import argparse
import copy
import math
import sys
import warnings

import numpy as np
from mmengine.config import DictAction

from mmpre_inception.apis.cli import command_line, tool_parser
from mmpre_inception.errors import ConfigError


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    parser.add_argument('config')
    parser.add_argument('--dataset-size', type=int,
                        help='training images (default: count the config\'s '
                        'training set)')
    parser.add_argument('--ngpus', type=int, default=1,
                        help='processes sharing the run (total batch = '
                        'batch_size x ngpus)')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='as tools/train.py --auto-scale-lr: scale the '
                        'rate by the total batch over the config\'s '
                        'auto_scale_lr.base_batch_size')
    parser.add_argument('--x', choices=['epoch', 'iter'], default='epoch')
    parser.add_argument('--title')
    parser.add_argument('--size', default='1000x600', help='pixels, WxH')
    parser.add_argument('--out', required=True, help='PNG to write')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        metavar='KEY=VALUE',
                        help='override config keys, as tools/train.py does')
    return parser.parse_args(argv)


def simulate(cfg, epoch_length: int, total_batch: int = None) -> dict:
    """Step the config's schedulers through its whole run.

    Args:
        cfg (Config): A training config.
        epoch_length (int): Iterations per epoch (ignored by
            iteration-based runs).
        total_batch (int, optional): Images per iteration over all ranks;
            with ``auto_scale_lr.enable`` the rates are scaled by it over
            ``auto_scale_lr.base_batch_size``, as the Runner does.

    Returns:
        dict: ``lr`` and ``momentum`` (the first parameter group's value
        used at each iteration, float arrays) and ``epoch_length``.
    """
    import torch
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import PARAM_SCHEDULERS, DefaultScope

    by_epoch = 'max_iters' not in cfg.train_cfg
    total = cfg.train_cfg.max_epochs * epoch_length if by_epoch else \
        cfg.train_cfg.max_iters
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        optim_wrapper = build_optim_wrapper(torch.nn.Linear(1, 1),
                                            cfg.optim_wrapper)
        # As mmengine's Runner.scale_lr, before any scheduler is built.
        auto_scale_lr = cfg.get('auto_scale_lr') or {}
        if auto_scale_lr.get('enable', False):
            ratio = total_batch / auto_scale_lr['base_batch_size']
            for param_group in optim_wrapper.optimizer.param_groups:
                param_group['lr'] *= ratio
        scheduler_cfgs = cfg.get('param_scheduler') or []
        if isinstance(scheduler_cfgs, dict):
            scheduler_cfgs = [scheduler_cfgs]
        schedulers = []
        # As mmengine's Runner._build_param_scheduler: `end` defaults to the
        # run's length, and the epoch length converts epoch-based ones.
        for scheduler_cfg in scheduler_cfgs:
            scheduler_cfg = copy.deepcopy(scheduler_cfg)
            scheduler_cfg.setdefault(
                'end', cfg.train_cfg.max_epochs if scheduler_cfg.get(
                    'by_epoch', True) else total)
            schedulers.append(PARAM_SCHEDULERS.build(
                scheduler_cfg, default_args=dict(optimizer=optim_wrapper,
                                                 epoch_length=epoch_length)))
    group = optim_wrapper.optimizer.param_groups[0]
    lr, momentum = np.empty(total), np.empty(total)
    # No optimizer step is taken, which torch's schedulers warn about.
    warnings.filterwarnings('ignore', 'Detected call of `scheduler.step')
    for index in range(total):
        lr[index] = group['lr']
        momentum[index] = group['momentum'] if 'momentum' in group else \
            group['betas'][0] if 'betas' in group else np.nan
        # ParamSchedulerHook: iteration-based schedulers after each
        # iteration, epoch-based ones after each epoch.
        for scheduler in schedulers:
            if not scheduler.by_epoch:
                scheduler.step()
        if by_epoch and (index + 1) % epoch_length == 0:
            for scheduler in schedulers:
                if scheduler.by_epoch:
                    scheduler.step()
    return dict(lr=lr, momentum=momentum,
                epoch_length=epoch_length if by_epoch else None)


def plot_schedule(schedule: dict, x: str, size: str, title=None):
    """Two panels, learning rate and momentum, against epoch or iter."""
    from mmpre_inception.analysis.figures import new_figure
    steps = np.arange(len(schedule['lr']), dtype=float)
    if x == 'epoch':
        if schedule['epoch_length'] is None:
            raise ConfigError('--x epoch: this run is iteration-based; '
                              'use --x iter')
        steps /= schedule['epoch_length']
    fig = new_figure(size)
    axes = fig.subplots(2, 1, sharex=True)
    # drawstyle steps-post: each value holds until the next iteration.
    for ax, key in zip(axes, ['lr', 'momentum']):
        ax.plot(steps, schedule[key], drawstyle='steps-post', linewidth=1)
        ax.set_ylabel('learning rate' if key == 'lr' else key)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel('epoch' if x == 'epoch' else 'iteration')
    fig.suptitle(title or 'learning rate and momentum, first parameter '
                 'group')
    fig.tight_layout()
    return fig


def dataset_size(cfg) -> int:
    from mmengine.registry import DefaultScope

    from mmpre_inception.registry import DATASETS
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        return len(DATASETS.build(cfg.train_dataloader.dataset))


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line() as outcome:
        from mmpre_inception import register_all_modules
        from mmpre_inception.analysis.figures import save_png
        from mmpre_inception.apis import load_config
        register_all_modules(init_default_scope=False)
        cfg = load_config(args.config, args.cfg_options)
        if args.auto_scale_lr:
            cfg.auto_scale_lr.enable = True  # what tools/train.py sets
        if args.ngpus < 1:
            raise ConfigError(f'--ngpus {args.ngpus}: give 1 or more')
        size = args.dataset_size
        if size is None:
            try:
                size = dataset_size(cfg)
            except Exception as error:  # any way the data set is not there
                raise ConfigError(
                    f'cannot count the training set of {args.config} '
                    f'({str(error).splitlines()[0]}); give --dataset-size '
                    '(ImageNet-1k: 1281167)') from error
        batch = cfg.train_dataloader.batch_size * args.ngpus
        epoch_length = math.ceil(size / batch)
        schedule = simulate(cfg, epoch_length, batch)
        fig = plot_schedule(schedule, args.x, args.size, args.title)
        save_png(fig, args.out)
        lr = schedule['lr']
        print(f'{len(lr)} iterations ({epoch_length} per epoch); learning '
              f'rate {lr[0]:.4g} first, {lr.max():.4g} highest, '
              f'{lr[-1]:.4g} last')
        print(f'Schedule: {args.out}')
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
