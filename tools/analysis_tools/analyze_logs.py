"""Learning curves and training time from mmengine's JSON logs.

``plot_curve`` draws one panel per key (loss, loss_cls, loss_aux, lr,
accuracy/top1, ...) with one line per run, against epochs or iterations.
Validation keys are placed at the end of their epoch. ``cal_train_time``
is mmpretrain's own: the time per iteration, per epoch and overall.

The logs are the ``<timestamp>/vis_data/<timestamp>.json`` files of a
training run's work dir. A missing file or unknown key is one line on
stderr, exit status 2.

Example:
    python tools/analysis_tools/analyze_logs.py plot_curve \\
        work_dirs/demo/*/vis_data/2*.json --out curves.png
    python tools/analysis_tools/analyze_logs.py plot_curve A.json B.json \\
        --keys loss accuracy/top1 --legend baseline mixup --x iter
    python tools/analysis_tools/analyze_logs.py cal_train_time A.json
"""
import argparse
import math
import os.path as osp
import sys
from typing import Dict, List

import numpy as np

from mmpre_inception.apis.cli import command_line, tool_parser
from mmpre_inception.errors import ConfigError

DEFAULT_KEYS = ['loss', 'loss_cls', 'loss_aux', 'lr', 'accuracy/top1']


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    tasks = parser.add_subparsers(dest='task', required=True)
    plot = tasks.add_parser('plot_curve', help='plot learning curves')
    plot.add_argument('json_logs', nargs='+')
    plot.add_argument('--keys', nargs='+', default=DEFAULT_KEYS,
                      help='logged keys, one panel each (default: '
                      f'{" ".join(DEFAULT_KEYS)}; missing ones are '
                      'skipped unless named)')
    plot.add_argument('--x', choices=['epoch', 'iter'], default='epoch',
                      help='x axis (epoch-based runs only for epoch)')
    plot.add_argument('--legend', nargs='+', help='one label per log')
    plot.add_argument('--title')
    plot.add_argument('--size', default='1000x1200', help='pixels, WxH')
    plot.add_argument('--out', required=True, help='PNG to write')
    timing = tasks.add_parser('cal_train_time',
                              help='time per training iteration')
    timing.add_argument('json_logs', nargs='+')
    timing.add_argument('--include-outliers', action='store_true',
                        help='count the first iteration of each epoch')
    return parser.parse_args(argv)


def iters_per_epoch(train_logs: List[dict]) -> int:
    """The epoch length of an epoch-based run, from its logged steps: a
    log at global step s in epoch e has (e - 1) * n < s <= e * n."""
    return math.ceil(max(log['step'] / log['epoch'] for log in train_logs))


def curve(log: Dict[str, List[dict]], key: str, x: str):
    """``(xs, ys)`` of ``key`` in one loaded log, or None if not logged.

    Args:
        log (dict): ``mmpretrain.utils.load_json_log``'s ``train`` and
            ``val`` lists.
        key (str): A logged key.
        x (str): ``'epoch'`` or ``'iter'``.

    Returns:
        tuple, optional: Two float arrays.
    """
    train = [entry for entry in log['train'] if key in entry]
    val = [entry for entry in log['val'] if key in entry]
    if not train and not val:
        return None
    by_epoch = bool(log['train']) and 'epoch' in log['train'][0]
    if x == 'epoch' and not by_epoch:
        raise ConfigError('--x epoch: this run is iteration-based (its log '
                          'has no epochs); use --x iter')
    length = iters_per_epoch(log['train']) if by_epoch else 1
    # A training entry's `step` is the iteration; a validation entry's is
    # the epoch of an epoch-based run, else the iteration.
    entries, step_unit = (train, 'iter') if train else \
        (val, 'epoch' if by_epoch else 'iter')
    scale = 1 if step_unit == x else length if x == 'iter' else 1 / length
    xs = np.array([entry['step'] for entry in entries], dtype=float) * scale
    return xs, np.array([entry[key] for entry in entries], dtype=float)


def plot_curves(logs: List[dict], labels: List[str], keys: List[str],
                x: str, size: str, title=None, keys_named=True):
    """A figure with one panel per key found in any log.

    Raises:
        ConfigError: A named key is in no log.
    """
    from mmpre_inception.analysis.figures import new_figure
    found = {}
    for key in keys:
        curves = [curve(log, key, x) for log in logs]
        if all(c is None for c in curves):
            if keys_named:
                logged = sorted({k for log in logs for part in log.values()
                                 for entry in part for k in entry} -
                                {'step', 'epoch', 'iter'})
                raise ConfigError(f'--keys {key}: not in the logs; logged '
                                  f'keys: {" ".join(logged)}')
            continue
        found[key] = curves
    if not found:
        raise ConfigError(f'none of {" ".join(keys)} is in the logs')
    fig = new_figure(size)
    axes = fig.subplots(len(found), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (key, curves) in zip(axes, found.items()):
        for label, xy in zip(labels, curves):
            if xy is not None:
                ax.plot(*xy, label=label, linewidth=1,
                        marker='o' if len(xy[0]) < 30 else None,
                        markersize=3)
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        if key == 'lr':
            ax.ticklabel_format(axis='y', style='sci', scilimits=(-3, 3))
    axes[0].legend(fontsize='small')
    axes[-1].set_xlabel('epoch' if x == 'epoch' else 'iteration')
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def default_labels(paths: List[str]) -> List[str]:
    """Each log's work dir name (``<work_dir>/<timestamp>/vis_data/``),
    with the timestamp where two runs share a work dir."""
    runs = [osp.dirname(osp.dirname(osp.abspath(path))) for path in paths]
    names = [osp.basename(osp.dirname(run)) for run in runs]
    return [f'{name} {osp.basename(run)}' if names.count(name) > 1 else name
            for name, run in zip(names, runs)]


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line() as outcome:
        from mmpre_inception.analysis.figures import save_png
        from mmpre_inception.analysis.logs import load_json_logs
        logs = load_json_logs(args.json_logs)
        if args.task == 'cal_train_time':
            # mmpretrain's implementation, called from its installed tools.
            from mmpre_inception.analysis import mmpretrain_tool
            mmpretrain_tool('analysis_tools/analyze_logs.py').cal_train_time(
                logs, args)
            return 0
        labels = args.legend or default_labels(args.json_logs)
        if len(labels) != len(logs):
            raise ConfigError(f'--legend: give one label per log '
                              f'({len(logs)}), not {len(labels)}')
        fig = plot_curves(logs, labels, args.keys, args.x, args.size,
                          args.title, keys_named=args.keys != DEFAULT_KEYS)
        save_png(fig, args.out)
        print(f'Curves: {args.out}')
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
