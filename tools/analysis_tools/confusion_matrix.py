"""The confusion matrix of a checkpoint or of a ``tools/test.py --out``
file: a picture and the counts.

mmpretrain's command line works as is: the config, then a checkpoint
(its test set is run) or a ``.pkl`` of predictions. Rows are true
classes, columns predicted ones (mmpretrain's ``ConfusionMatrix``
counts them). With more classes than ``--max-classes`` the picture shows
the classes involved in the most errors; ``--out`` always has them all.
Class names come from the config's test set (its ``metainfo.classes``,
or the 1000 ImageNet names).

Example:
    python tools/test.py configs/inception_v3_8xb32_in1k.py CKPT \\
        --out preds.pkl
    python tools/analysis_tools/confusion_matrix.py \\
        configs/inception_v3_8xb32_in1k.py preds.pkl \\
        --show-path cm.png --include-values --out cm.csv
"""
import argparse
import sys

import numpy as np

from mmpre_inception.apis.cli import (add_cfg_options, command_line,
                                      positive_int, tool_parser)
from mmpre_inception.errors import ConfigError


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    parser.add_argument('config', help='the test config (class names, and '
                        'the test set for a checkpoint)')
    parser.add_argument('ckpt_or_result',
                        help='a checkpoint, or a tools/test.py --out .pkl')
    parser.add_argument('--out', help='the counts: .csv (with class names), '
                        '.pkl or .json (the matrix, as mmpretrain writes it)')
    parser.add_argument('--show-path', help='PNG to write')
    parser.add_argument('--show', action='store_true',
                        help='accepted for mmpretrain\'s command line; this '
                        'tool opens no window, give --show-path')
    parser.add_argument('--include-values', action='store_true',
                        help='write the counts in the cells')
    parser.add_argument('--cmap', default='Blues',
                        help='matplotlib colour map (default Blues: light '
                        'for few, so the diagonal stands out)')
    parser.add_argument('--normalize', action='store_true',
                        help='show each row as fractions of its true class')
    parser.add_argument('--max-classes', type=positive_int, default=30,
                        help='classes in the picture (default 30)')
    parser.add_argument('--size', default='900x800', help='pixels, WxH')
    add_cfg_options(parser)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line(register_modules=True) as outcome:
        from mmpre_inception.analysis import confusion
        from mmpre_inception.analysis.figures import save_png
        from mmpre_inception.analysis.predictions import class_names
        if args.max_classes < 1:
            raise ConfigError(f'--max-classes {args.max_classes}: give 1 or '
                              'more')
        if not (args.out or args.show_path):
            raise ConfigError('give --show-path PNG, --out FILE or both: '
                              'this tool opens no window')
        if args.out:
            confusion.check_matrix_path(args.out)
        cfg, predictions = confusion.predictions_of(
            args.config, args.ckpt_or_result, args.cfg_options)
        matrix = confusion.confusion_matrix(predictions)
        names = class_names(cfg, len(matrix))
        if args.show_path:
            save_png(confusion.plot_matrix(
                matrix, names, confusion.shown_classes(matrix,
                                                       args.max_classes),
                args.normalize, args.size, args.include_values, args.cmap),
                args.show_path)
            print(f'Confusion matrix: {args.show_path}')
        if args.out:
            confusion.write_matrix(matrix, names, args.out)
            print(f'Counts: {args.out}')
        confused = ', '.join(
            f'{names[t]} as {names[p]} ({int(matrix[t, p])})'
            for t, p in confusion.most_confused(matrix, 3))
        print(f'{int(np.trace(matrix))} of {int(matrix.sum())} correct; most '
              f'confused: {confused or "none"}')
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
