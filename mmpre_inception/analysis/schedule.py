"""The learning rate, momentum and weight decay of a config over a whole
run, without training (``tools/visualization/vis_scheduler.py``)."""
import copy
import math
import warnings
from typing import Optional, Sequence

import numpy as np

from mmpre_inception.errors import ConfigError

# vis_scheduler's -p names -> the parameter group's keys and axis labels.
PARAMETERS = {
    'lr': 'learning rate',
    'momentum': 'momentum',
    'wd': 'weight decay',
}


def simulate(cfg, epoch_length: int, total_batch: Optional[int] = None
             ) -> dict:
    """Step the config's schedulers through its whole run, as mmengine's
    ``ParamSchedulerHook`` steps them, once per iteration.

    Args:
        cfg (Config): A training config.
        epoch_length (int): Iterations per epoch (ignored by
            iteration-based runs).
        total_batch (int, optional): Images per iteration over all ranks;
            with ``auto_scale_lr.enable`` the rates are scaled by it over
            ``auto_scale_lr.base_batch_size``, as the Runner does.

    Returns:
        dict: ``lr``, ``momentum`` and ``wd`` (the first parameter group's
        value used at each iteration, float arrays; NaN where the
        optimizer has no such option) and ``epoch_length`` (None for an
        iteration-based run).

    Example:
        >>> from mmpre_inception.apis import load_config
        >>> cfg = load_config('configs/inception_v3_8xb32_in1k.py')
        >>> schedule = simulate(cfg, epoch_length=5005)  # doctest: +SKIP
        >>> schedule['lr'][[0, 2 * 5005]]  # doctest: +SKIP
        array([0.045 , 0.0423])
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
    values = {key: np.empty(total) for key in PARAMETERS}
    # No optimizer step is taken, which torch's schedulers warn about.
    warnings.filterwarnings('ignore', 'Detected call of `scheduler.step')
    for index in range(total):
        values['lr'][index] = group['lr']
        values['momentum'][index] = group['momentum'] if 'momentum' in \
            group else group['betas'][0] if 'betas' in group else np.nan
        values['wd'][index] = group.get('weight_decay', np.nan)
        # ParamSchedulerHook: iteration-based schedulers after each
        # iteration, epoch-based ones after each epoch.
        for scheduler in schedulers:
            if not scheduler.by_epoch:
                scheduler.step()
        if by_epoch and (index + 1) % epoch_length == 0:
            for scheduler in schedulers:
                if scheduler.by_epoch:
                    scheduler.step()
    return dict(values, epoch_length=epoch_length if by_epoch else None)


def plot_schedule(schedule: dict, x: str, size: str,
                  parameters: Sequence[str] = ('lr', 'momentum'),
                  title: Optional[str] = None):
    """One panel per parameter against epoch or iteration.

    Args:
        schedule (dict): :func:`simulate`'s result.
        x (str): ``'epoch'`` or ``'iter'``.
        size (str): Pixels, ``'WxH'``.
        parameters (Sequence[str]): Keys of :data:`PARAMETERS`.
        title (str, optional): The figure's title.

    Returns:
        matplotlib.figure.Figure: The figure.
    """
    from mmpre_inception.analysis.figures import new_figure
    steps = np.arange(len(schedule['lr']), dtype=float)
    if x == 'epoch':
        if schedule['epoch_length'] is None:
            raise ConfigError('--x epoch: this run is iteration-based; '
                              'use --x iter')
        steps /= schedule['epoch_length']
    fig = new_figure(size)
    axes = fig.subplots(len(parameters), 1, sharex=True, squeeze=False)[:, 0]
    # drawstyle steps-post: each value holds until the next iteration.
    for ax, key in zip(axes, parameters):
        ax.plot(steps, schedule[key], drawstyle='steps-post', linewidth=1)
        ax.set_ylabel(PARAMETERS[key])
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel('epoch' if x == 'epoch' else 'iteration')
    fig.suptitle(title or ', '.join(PARAMETERS[key] for key in parameters) +
                 ', first parameter group')
    fig.tight_layout()
    return fig


def count_training_set(cfg, config_path: str) -> int:
    """The size of ``cfg``'s training set, built to count it.

    Raises:
        ConfigError: The data set cannot be built here.
    """
    from mmengine.registry import DefaultScope

    from mmpre_inception.registry import DATASETS
    try:
        with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
            return len(DATASETS.build(cfg.train_dataloader.dataset))
    except Exception as error:  # any way the data set is not there
        raise ConfigError(
            f'cannot count the training set of {config_path} '
            f'({str(error).splitlines()[0]}); give --dataset-size '
            '(ImageNet-1k: 1281167)') from error


def draw_schedule(config: str, save_path: str, *,
                  dataset_size: Optional[int] = None, ngpus: int = 1,
                  parameters: Sequence[str] = ('lr', 'momentum'),
                  auto_scale_lr: bool = False, x: str = 'epoch',
                  size: str = '1000x600', title: Optional[str] = None,
                  cfg_options: Optional[dict] = None) -> dict:
    """Simulate a config's schedule and write its picture.

    Args:
        config (str): The config file.
        save_path (str): The PNG to write.
        dataset_size (int, optional): Training images; without it the
            config's training set is built to count them.
        ngpus (int): Processes sharing the run: the total batch is
            ``train_dataloader.batch_size x ngpus``.
        parameters (Sequence[str]): What to draw, one panel each.
        auto_scale_lr (bool): As ``tools/train.py --auto-scale-lr``.
        x (str): ``'epoch'`` or ``'iter'``.
        size (str): Pixels, ``'WxH'``.
        title (str, optional): The figure's title.
        cfg_options (dict, optional): ``--cfg-options``.

    Returns:
        dict: :func:`simulate`'s result.
    """
    from mmpre_inception.analysis.figures import save_png
    from mmpre_inception.utils import load_config
    if ngpus < 1:
        raise ConfigError(f'--ngpus {ngpus}: give 1 or more')
    cfg = load_config(config, cfg_options)
    if auto_scale_lr:
        cfg.auto_scale_lr.enable = True  # what tools/train.py sets
    if dataset_size is None:
        dataset_size = count_training_set(cfg, config)
    batch = cfg.train_dataloader.batch_size * ngpus
    epoch_length = math.ceil(dataset_size / batch)
    schedule = simulate(cfg, epoch_length, batch)
    save_png(plot_schedule(schedule, x, size, parameters, title), save_path)
    return schedule
