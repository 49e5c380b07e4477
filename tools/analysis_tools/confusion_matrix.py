"""The confusion matrix of a ``tools/test.py --out`` file: a picture and
the raw counts.

Rows are true classes, columns predicted ones (mmpretrain's
``ConfusionMatrix``, which counts them). With more classes than
``--max-classes`` the picture shows the classes involved in the most
errors; the CSV always has them all. Class names come from ``--config``'s
test set (its ``metainfo.classes``, or the 1000 ImageNet names).

Example:
    python tools/test.py configs/inception_v3_8xb32_in1k.py CKPT \\
        --out preds.pkl
    python tools/analysis_tools/confusion_matrix.py preds.pkl \\
        --config configs/inception_v3_8xb32_in1k.py --out cm.png \\
        --out-matrix cm.csv
"""
import argparse
import csv
import io
import sys

import numpy as np

from mmpre_inception.apis.cli import command_line, tool_parser
from mmpre_inception.errors import ConfigError


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    parser.add_argument('pkl_results', help='a tools/test.py --out file')
    parser.add_argument('--config', help='for the class names')
    parser.add_argument('--out', required=True, help='PNG to write')
    parser.add_argument('--out-matrix', help='CSV of all the counts')
    parser.add_argument('--normalize', action='store_true',
                        help='show each row as fractions of its true class')
    parser.add_argument('--max-classes', type=int, default=30,
                        help='classes in the picture (default 30)')
    parser.add_argument('--size', default='900x800', help='pixels, WxH')
    return parser.parse_args(argv)


def shown_classes(matrix: np.ndarray, max_classes: int) -> np.ndarray:
    """All classes if few enough, else those in the most errors (as the
    true or the predicted class), in index order."""
    if len(matrix) <= max_classes:
        return np.arange(len(matrix))
    errors = matrix.sum(0) + matrix.sum(1) - 2 * np.diag(matrix)
    return np.sort(np.argsort(-errors, kind='stable')[:max_classes])


def plot_matrix(matrix: np.ndarray, names, classes: np.ndarray,
                normalize: bool, size: str):
    from mmpre_inception.analysis.figures import new_figure
    shown = matrix[np.ix_(classes, classes)].astype(float)
    if normalize:
        totals = matrix[classes].sum(1, keepdims=True)
        shown = shown / np.maximum(totals, 1)
    fig = new_figure(size)
    ax = fig.add_subplot()
    image = ax.imshow(shown, cmap='Blues', interpolation='nearest')
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    labels = [names[index] for index in classes]
    ax.set_xticks(range(len(classes)), labels, rotation=90, fontsize='small')
    ax.set_yticks(range(len(classes)), labels, fontsize='small')
    if len(classes) <= 15:
        for (row, col), value in np.ndenumerate(shown):
            ax.text(col, row, f'{value:.2f}' if normalize else int(value),
                    ha='center', va='center', fontsize='x-small',
                    color='white' if value > shown.max() / 2 else 'black')
    ax.set_xlabel('predicted class')
    ax.set_ylabel('true class')
    subset = '' if len(classes) == len(matrix) else \
        f', the {len(classes)} classes with most errors of {len(matrix)}'
    ax.set_title(f'confusion matrix ({int(matrix.sum())} images{subset})')
    fig.tight_layout()
    return fig


def write_csv(matrix: np.ndarray, names, path: str) -> None:
    from mmpre_inception.apis import write_atomically
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(['true \\ predicted'] + list(names))
    for name, row in zip(names, matrix):
        writer.writerow([name] + [int(value) for value in row])
    write_atomically(text.getvalue().encode(), path)


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line() as outcome:
        from mmpretrain.evaluation import ConfusionMatrix

        from mmpre_inception import register_all_modules
        from mmpre_inception.analysis.figures import save_png
        from mmpre_inception.analysis.predictions import (class_names,
                                                          load_predictions)
        from mmpre_inception.apis import load_config
        register_all_modules(init_default_scope=False)
        if args.max_classes < 1:
            raise ConfigError(f'--max-classes {args.max_classes}: give 1 or '
                              'more')
        predictions = load_predictions(args.pkl_results)
        cfg = load_config(args.config) if args.config else None
        num_classes = predictions['scores'].shape[1]
        names = class_names(cfg, num_classes)
        matrix = ConfusionMatrix.calculate(
            predictions['pred'], predictions['gt'],
            num_classes=num_classes).numpy()
        fig = plot_matrix(matrix, names,
                          shown_classes(matrix, args.max_classes),
                          args.normalize, args.size)
        save_png(fig, args.out)
        print(f'Confusion matrix: {args.out}')
        if args.out_matrix:
            write_csv(matrix, names, args.out_matrix)
            print(f'Counts: {args.out_matrix}')
        correct = int(np.trace(matrix))
        confused = ', '.join(
            f'{names[t]} as {names[p]} ({int(matrix[t, p])})'
            for t, p in most_confused(matrix, 3))
        print(f'{correct} of {int(matrix.sum())} correct; most confused: '
              f'{confused or "none"}')
    return outcome.status


def most_confused(matrix: np.ndarray, count: int):
    """The ``count`` (true, predicted) pairs with the most errors."""
    errors = matrix.copy()
    np.fill_diagonal(errors, 0)
    order = np.argsort(-errors, axis=None, kind='stable')[:count]
    return [divmod(int(index), len(matrix)) for index in order
            if errors.flat[index] > 0]


if __name__ == '__main__':
    sys.exit(main())
