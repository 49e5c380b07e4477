"""Galleries of a ``tools/test.py --out`` file: the most confident
successes and the most confident failures, each image titled with its
true and predicted class and the predicted score.

mmpretrain's command line works as is (config, then result). Writes
``success.png``, ``failure.png`` and ``galleries.json`` (the images
shown, in order) to ``--out-dir``; mmpretrain's tool writes one file per
image instead. The images are read from the paths saved in the file, so
run it where ``tools/test.py`` ran (relative data roots), or give
``--data-root`` to look there instead. Class names come from the
config's test set.

Example:
    python tools/test.py configs/inception_v3_8xb32_in1k.py CKPT \\
        --out preds.pkl
    python tools/analysis_tools/analyze_results.py \\
        configs/inception_v3_8xb32_in1k.py preds.pkl --out-dir galleries
"""
import argparse
import sys

from mmpre_inception.apis.cli import (add_cfg_options, command_line,
                                      positive_float, positive_int,
                                      tool_parser)


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    parser.add_argument('config', help='the test config (class names)')
    parser.add_argument('result', help='a tools/test.py --out .pkl')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--topk', type=positive_int, default=20,
                        help='images per gallery (default 20)')
    parser.add_argument('-r', '--rescale-factor', type=positive_float,
                        default=1.0,
                        help='scale the galleries')
    parser.add_argument('--data-root',
                        help='read each image from here (its path relative '
                        'to the saved one\'s folder is kept: the file name '
                        'and its class folder)')
    parser.add_argument('--columns', type=positive_int, default=5,
                        help='panels per row (at most --topk)')
    parser.add_argument('--size',
                        help='pixels, WxH (default: 1000 wide, rows of '
                        'square panels)')
    add_cfg_options(parser)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line(register_modules=True) as outcome:
        from mmpre_inception.analysis.galleries import draw_galleries
        listing = draw_galleries(
            args.config, args.result, args.out_dir, topk=args.topk,
            columns=args.columns, size=args.size,
            rescale_factor=args.rescale_factor, data_root=args.data_root,
            cfg_options=args.cfg_options)
        print(f'{len(listing["success"])} successes and '
              f'{len(listing["failure"])} failures shown: {args.out_dir}/'
              '{success,failure}.png, galleries.json')
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
