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
import importlib.util
import json
import math
import os.path as osp
import re
import sys
from typing import Dict, List, Optional, Sequence

import numpy as np

from mmpre_inception.apis.cli import command_line, tool_parser
from mmpre_inception.errors import ConfigError, ResultsFileError

# Ours, not mmpretrain's analyze_logs.py plot_curve: it draws every key on
# one axis and places no validation key (accuracy/top1 comes out empty on
# our logs). cal_train_time is mmpretrain's own, called from its installed
# tools.

DEFAULT_KEYS = ['loss', 'loss_cls', 'loss_aux', 'lr', 'accuracy/top1']


def print_train_time(paths: Sequence[str],
                     include_outliers: bool = False) -> None:
    """mmpretrain's ``analyze_logs.py cal_train_time`` on the logs: the
    time per iteration, per epoch and overall.

    Args:
        paths (Sequence[str]): JSON logs.
        include_outliers (bool): Count the first iteration of each epoch.
    """
    import argparse

    import mmpretrain

    # mmpretrain ships its tools as files in its .mim folder, not as a
    # package: import the file to call its function.
    file = osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'tools',
                    'analysis_tools', 'analyze_logs.py')
    spec = importlib.util.spec_from_file_location(
        'mmpretrain_analyze_logs', file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.cal_train_time(
        load_json_logs(paths),
        argparse.Namespace(json_logs=list(paths),
                           include_outliers=include_outliers))


def load_json_logs(paths: Sequence[str]) -> List[dict]:
    """Each log as mmpretrain's ``load_json_log`` reads it, after checking
    that it is one.

    Raises:
        ConfigError: A path is missing or not a ``.json`` log.
        ResultsFileError: A line of it is not JSON; names the line.
    """
    from mmpretrain.utils import load_json_log
    for path in paths:
        if not osp.isfile(path):
            raise ConfigError(f'log not found: {path}')
        if not path.endswith('.json'):
            raise ConfigError(
                f'{path}: give the JSON log (<work_dir>/<timestamp>/'
                'vis_data/<timestamp>.json)')
        with open(path, encoding='utf-8', errors='replace') as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    json.loads(line)
                except json.JSONDecodeError as error:
                    raise ResultsFileError(
                        f'{path}:{number}: not a JSON log line ({error.msg}); '
                        'give the vis_data/<timestamp>.json file mmengine '
                        'wrote') from None
    return [load_json_log(path) for path in paths]


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


def draw_curves(json_logs: Sequence[str], out: str, *,
                keys: Optional[Sequence[str]] = None, x: str = 'epoch',
                legend: Optional[Sequence[str]] = None,
                title: Optional[str] = None,
                size: str = '1000x1200') -> List[str]:
    """Read the logs and write one panel per key, one line per log.

    Args:
        json_logs (Sequence[str]): The logs.
        out (str): The PNG to write.
        keys (Sequence[str], optional): Logged keys, each in some log;
            default :data:`DEFAULT_KEYS`, those no log has skipped.
        x (str): ``'epoch'`` or ``'iter'``.
        legend (Sequence[str], optional): One label per log (default:
            each log's work dir name).
        title (str, optional): The figure's title.
        size (str): Pixels, ``'WxH'``.

    Returns:
        list[str]: The labels drawn.
    """
    from mmpre_inception.analysis.figures import save_png
    logs = load_json_logs(json_logs)
    labels = list(legend or default_labels(json_logs))
    if len(labels) != len(logs):
        raise ConfigError(f'--legend: give one label per log '
                          f'({len(logs)}), not {len(labels)}')
    fig = plot_curves(logs, labels, list(keys or DEFAULT_KEYS), x, size,
                      title, keys_named=keys is not None)
    save_png(fig, out)
    return labels


def figure_size(size: Optional[str], window_size: Optional[str],
                default: str) -> str:
    """The ``'WxH'`` pixels of ``--size``, or of mmpretrain's
    ``--window-size`` (``'W*H'`` inches, at :data:`DPI`), or ``default``.

    Raises:
        ConfigError: Both are given, or ``window_size`` is malformed.
    """
    from mmpre_inception.analysis.figures import DPI
    if size and window_size:
        raise ConfigError('give --size (pixels) or --window-size (inches), '
                          'not both')
    if not window_size:
        return size or default
    match = re.fullmatch(r'(\d+(?:\.\d+)?)\*(\d+(?:\.\d+)?)', window_size)
    if not match:
        raise ConfigError(f'--window-size {window_size}: give W*H in inches, '
                          'e.g. 12*7')
    return f'{round(float(match[1]) * DPI)}x{round(float(match[2]) * DPI)}'


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    tasks = parser.add_subparsers(dest='task', required=True)
    plot = tasks.add_parser('plot_curve', help='plot learning curves')
    plot.add_argument('json_logs', nargs='+')
    plot.add_argument('--keys', nargs='+',
                      help='logged keys, one panel each (default: the '
                      'losses, lr and accuracy/top1 that are logged)')
    plot.add_argument('--x', choices=['epoch', 'iter'], default='epoch',
                      help='x axis (epoch-based runs only for epoch)')
    plot.add_argument('--legend', nargs='+', help='one label per log')
    plot.add_argument('--title')
    plot.add_argument('--size', help='pixels, WxH (default 1000x1200)')
    plot.add_argument('--window-size',
                      help='inches, W*H, as mmpretrain\'s (100 pixels per '
                      'inch); or give --size')
    plot.add_argument('--style', help='accepted for mmpretrain\'s command '
                      'line; the figure has one fixed look (no seaborn)')
    plot.add_argument('--out', required=True, help='PNG to write')
    timing = tasks.add_parser('cal_train_time',
                              help='time per training iteration')
    timing.add_argument('json_logs', nargs='+')
    timing.add_argument('--include-outliers', action='store_true',
                        help='count the first iteration of each epoch')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line() as outcome:
        if args.task == 'cal_train_time':
            print_train_time(args.json_logs, args.include_outliers)
            return 0
        draw_curves(args.json_logs, args.out, keys=args.keys, x=args.x,
                    legend=args.legend, title=args.title,
                    size=figure_size(args.size, args.window_size,
                                     '1000x1200'))
        print(f'Curves: {args.out}')
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
