"""The learning rate and momentum (or weight decay) of a config over a
whole run, without training: the config's optimizer and
``param_scheduler`` stepped as mmengine's ``ParamSchedulerHook`` steps
them, once per iteration.

mmpretrain's command line works as is. The epoch length is the training
set's size over the total batch (``train_dataloader.batch_size`` x
``--ngpus``). Give ``--dataset-size`` (ImageNet-1k's training set:
1281167), or the tool builds the config's training set to count it.

Example:
    python tools/visualization/vis_scheduler.py \\
        configs/inception_v3_8xb32_in1k.py --dataset-size 1281167 \\
        --ngpus 8 --save-path lr.png --not-show
"""
import argparse
import sys

from mmpre_inception.apis.cli import add_cfg_options, command_line, tool_parser
from mmpre_inception.errors import ConfigError

NO_WINDOW = ('accepted for mmpretrain\'s command line; this tool opens no '
             'window, it writes --save-path')


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    parser.add_argument('config')
    parser.add_argument('-p', '--parameter', choices=['lr', 'momentum', 'wd'],
                        help='draw this one (default: lr and momentum, one '
                        'panel each)')
    parser.add_argument('-d', '--dataset-size', type=int,
                        help='training images (default: count the config\'s '
                        'training set)')
    parser.add_argument('-n', '--ngpus', type=int, default=1,
                        help='processes sharing the run (total batch = '
                        'batch_size x ngpus)')
    parser.add_argument('-s', '--save-path', '--out', dest='save_path',
                        help='PNG to write')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='as tools/train.py --auto-scale-lr: scale the '
                        'rate by the total batch over the config\'s '
                        'auto_scale_lr.base_batch_size')
    parser.add_argument('--x', choices=['epoch', 'iter'], default='epoch')
    parser.add_argument('--title')
    parser.add_argument('--size', help='pixels, WxH (default 1000x600)')
    parser.add_argument('--window-size',
                        help='inches, W*H, as mmpretrain\'s (100 pixels per '
                        'inch); or give --size')
    parser.add_argument('--not-show', action='store_true', help=NO_WINDOW)
    parser.add_argument('--style', help='accepted for mmpretrain\'s command '
                        'line; the figure has one fixed look (no seaborn)')
    parser.add_argument('--log-level', help='accepted for mmpretrain\'s '
                        'command line; this tool logs nothing')
    add_cfg_options(parser)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line(register_modules=True) as outcome:
        from mmpre_inception.analysis.figures import figure_size
        from mmpre_inception.analysis.schedule import draw_schedule
        if not args.save_path:
            raise ConfigError('give -s/--save-path PNG: this tool writes the '
                              'picture and opens no window')
        schedule = draw_schedule(
            args.config, args.save_path, dataset_size=args.dataset_size,
            ngpus=args.ngpus, auto_scale_lr=args.auto_scale_lr, x=args.x,
            parameters=[args.parameter] if args.parameter else
            ['lr', 'momentum'], title=args.title,
            size=figure_size(args.size, args.window_size, '1000x600'),
            cfg_options=args.cfg_options)
        lr = schedule['lr']
        print(f'{len(lr)} iterations ({schedule["epoch_length"]} per epoch);'
              f' learning rate {lr[0]:.4g} first, {lr.max():.4g} highest, '
              f'{lr[-1]:.4g} last')
        print(f'Schedule: {args.save_path}')
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
