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
import sys

from mmpre_inception.apis.cli import command_line, tool_parser


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
        from mmpre_inception.analysis.figures import figure_size
        from mmpre_inception.analysis.logs import (draw_curves,
                                                   print_train_time)
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
