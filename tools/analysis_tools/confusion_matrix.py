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
import csv
import io
import os.path as osp
import sys
import tempfile
from typing import List, Optional

import numpy as np

from mmpre_inception.apis.cli import (add_cfg_options, command_line,
                                      positive_int, tool_parser)
from mmpre_inception.errors import ConfigError

# Ours, not mmpretrain's confusion_matrix.py: it reads a result file with
# plain unpickling (a payload in it runs); ours reads it as load_results
# does, and checks that it fits the config.

# What --out may be, by extension: our CSV with class names, or the
# matrix alone as mmpretrain's tool writes it (mmengine.dump).
MATRIX_FORMATS = ('.csv', '.pkl', '.json')


def predictions_of(config: str, ckpt_or_result: str,
                   cfg_options: Optional[dict] = None):
    """The config (with ``cfg_options``) and the predictions: read from a
    ``tools/test.py --out`` file (``.pkl``), or made by running the
    config's test set through a checkpoint, as mmpretrain's tool does.

    Returns:
        tuple: ``(cfg, predictions)``, predictions as
        :func:`~mmpre_inception.analysis.predictions.load_predictions`.
    """
    from mmpre_inception.analysis.predictions import (check_predictions_fit,
                                                      load_predictions)
    from mmpre_inception.apis import check_file_exists, load_config
    from mmpre_inception.apis.evaluation import evaluate, prepare_test_config
    cfg = load_config(config, cfg_options)
    if ckpt_or_result.endswith('.pkl'):
        predictions = load_predictions(ckpt_or_result)
        check_predictions_fit(cfg, predictions, ckpt_or_result)
        return cfg, predictions
    check_file_exists(ckpt_or_result, 'checkpoint')
    with tempfile.TemporaryDirectory() as folder:
        run = load_config(config, cfg_options)
        run.load_from = ckpt_or_result
        run.work_dir = folder
        out = osp.join(folder, 'predictions.pkl')
        evaluate(prepare_test_config(run), out=out)
        return cfg, load_predictions(out)


def confusion_matrix(predictions: dict) -> np.ndarray:
    """Counts, true classes in rows, predicted ones in columns
    (mmpretrain's ``ConfusionMatrix.calculate``)."""
    from mmpretrain.evaluation import ConfusionMatrix
    return ConfusionMatrix.calculate(
        predictions['pred'], predictions['gt'],
        num_classes=predictions['scores'].shape[1]).numpy()


def shown_classes(matrix: np.ndarray, max_classes: int) -> np.ndarray:
    """All classes if few enough, else those in the most errors (as the
    true or the predicted class), in index order."""
    if len(matrix) <= max_classes:
        return np.arange(len(matrix))
    errors = matrix.sum(0) + matrix.sum(1) - 2 * np.diag(matrix)
    return np.sort(np.argsort(-errors, kind='stable')[:max_classes])


def most_confused(matrix: np.ndarray, count: int):
    """The ``count`` (true, predicted) pairs with the most errors."""
    errors = matrix.copy()
    np.fill_diagonal(errors, 0)
    order = np.argsort(-errors, axis=None, kind='stable')[:count]
    return [divmod(int(index), len(matrix)) for index in order
            if errors.flat[index] > 0]


def plot_matrix(matrix: np.ndarray, names: List[str], classes: np.ndarray,
                normalize: bool, size: str, include_values: bool = False,
                cmap: str = 'Blues'):
    """The matrix of ``classes`` as a picture.

    Args:
        matrix (np.ndarray): All the counts.
        names (list[str]): Class names.
        classes (np.ndarray): The rows and columns to show.
        normalize (bool): Each row as fractions of its true class.
        size (str): Pixels, ``'WxH'``.
        include_values (bool): Write each cell's value in it.
        cmap (str): A matplotlib colour map.

    Returns:
        matplotlib.figure.Figure: The figure.
    """
    from mmpre_inception.analysis.figures import new_figure
    shown = matrix[np.ix_(classes, classes)].astype(float)
    if normalize:
        totals = matrix[classes].sum(1, keepdims=True)
        shown = shown / np.maximum(totals, 1)
    fig = new_figure(size)
    ax = fig.add_subplot()
    try:
        image = ax.imshow(shown, cmap=cmap, interpolation='nearest')
    except ValueError as error:
        raise ConfigError(f'--cmap {cmap}: {error}') from None
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    labels = [names[index] for index in classes]
    ax.set_xticks(range(len(classes)), labels, rotation=90, fontsize='small')
    ax.set_yticks(range(len(classes)), labels, fontsize='small')
    if include_values:
        middle = (shown.max() + shown.min()) / 2
        dark_high = cmap in ('Blues', 'Greens', 'Greys', 'Reds', 'Purples')
        for (row, col), value in np.ndenumerate(shown):
            light = value > middle if dark_high else value < middle
            ax.text(col, row, f'{value:.2f}' if normalize else int(value),
                    ha='center', va='center', fontsize='x-small',
                    color='white' if light else 'black')
    ax.set_xlabel('predicted class')
    ax.set_ylabel('true class')
    subset = '' if len(classes) == len(matrix) else \
        f', the {len(classes)} classes with most errors of {len(matrix)}'
    ax.set_title(f'confusion matrix ({int(matrix.sum())} images{subset})')
    fig.tight_layout()
    return fig


def check_matrix_path(path: str) -> None:
    """Refuse an ``--out`` of another kind before anything is computed."""
    if osp.splitext(path)[1] not in MATRIX_FORMATS:
        raise ConfigError(f'--out {path}: give a {", ".join(MATRIX_FORMATS)} '
                          'file')


def write_matrix(matrix: np.ndarray, names: List[str], path: str) -> None:
    """``path`` by its extension: a CSV with the class names, or the
    matrix alone as ``.pkl`` (a tensor) or ``.json`` (lists), as
    mmpretrain's tool writes them; atomically."""
    import torch

    from mmpre_inception.apis import dump_results, write_atomically, write_json
    extension = osp.splitext(path)[1]
    if extension == '.csv':
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(['true \\ predicted'] + list(names))
        for name, row in zip(names, matrix):
            writer.writerow([name] + [int(value) for value in row])
        write_atomically(text.getvalue().encode(), path)
    elif extension == '.pkl':
        dump_results(torch.from_numpy(matrix), path)
    else:
        check_matrix_path(path)
        write_json(matrix.tolist(), path)


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
        from mmpre_inception.analysis.figures import save_png
        from mmpre_inception.analysis.predictions import class_names
        if args.max_classes < 1:
            raise ConfigError(f'--max-classes {args.max_classes}: give 1 or '
                              'more')
        if not (args.out or args.show_path):
            raise ConfigError('give --show-path PNG, --out FILE or both: '
                              'this tool opens no window')
        if args.out:
            check_matrix_path(args.out)
        cfg, predictions = predictions_of(
            args.config, args.ckpt_or_result, args.cfg_options)
        matrix = confusion_matrix(predictions)
        names = class_names(cfg, len(matrix))
        if args.show_path:
            save_png(plot_matrix(
                matrix, names, shown_classes(matrix, args.max_classes),
                args.normalize, args.size, args.include_values, args.cmap),
                args.show_path)
            print(f'Confusion matrix: {args.show_path}')
        if args.out:
            write_matrix(matrix, names, args.out)
            print(f'Counts: {args.out}')
        confused = ', '.join(
            f'{names[t]} as {names[p]} ({int(matrix[t, p])})'
            for t, p in most_confused(matrix, 3))
        print(f'{int(np.trace(matrix))} of {int(matrix.sum())} correct; most '
              f'confused: {confused or "none"}')
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
