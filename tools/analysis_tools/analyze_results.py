"""Galleries of a ``tools/test.py --out`` file: the most confident
successes and the most confident failures, each image titled with its
true and predicted class and the predicted score.

Writes ``success.png``, ``failure.png`` and ``galleries.json`` (the
images shown, in order) to ``--out-dir``. The images are read from the
paths saved in the file, so run it where ``tools/test.py`` ran (relative
data roots), or give ``--data-root`` to look there instead. Class names
come from ``--config``'s test set. Errors are one line on stderr, exit
status 2.

Example:
    python tools/test.py configs/inception_v3_8xb32_in1k.py CKPT \\
        --out preds.pkl
    python tools/analysis_tools/analyze_results.py preds.pkl \\
        --config configs/inception_v3_8xb32_in1k.py --out-dir galleries
"""
import argparse
import math
import os.path as osp
import sys

import numpy as np

from mmpre_inception.apis.cli import command_line, tool_parser
from mmpre_inception.errors import ConfigError


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    parser.add_argument('pkl_results', help='a tools/test.py --out file')
    parser.add_argument('--config', help='for the class names')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--topk', type=int, default=20,
                        help='images per gallery (default 20)')
    parser.add_argument('--data-root',
                        help='read each image from here (its path relative '
                        'to the saved one\'s folder is kept: the file name '
                        'and its class folder)')
    parser.add_argument('--columns', type=int, default=5)
    parser.add_argument('--size',
                        help='pixels, WxH (default: 1000 wide, rows of '
                        'square panels)')
    return parser.parse_args(argv)


def describe(predictions: dict, index: int, names) -> dict:
    """What the gallery and galleries.json say of one sample."""
    pred = int(predictions['pred'][index])
    return dict(sample=index, img_path=predictions['img_paths'][index],
                true=names[int(predictions['gt'][index])], pred=names[pred],
                score=float(predictions['scores'][index, pred]))


def select(predictions: dict, topk: int) -> dict:
    """Indices of the most confident successes and failures.

    Returns:
        dict: ``success`` and ``failure``: sample indices, the predicted
        class's score highest first (ties in file order).
    """
    scores = predictions['scores'].gather(
        1, predictions['pred'].view(-1, 1)).view(-1).numpy()
    correct = (predictions['pred'] == predictions['gt']).numpy()
    order = np.argsort(-scores, kind='stable')
    return dict(success=[int(i) for i in order if correct[i]][:topk],
                failure=[int(i) for i in order if not correct[i]][:topk])


def image_path(saved: str, data_root) -> str:
    if data_root is None:
        return saved
    # Keep what identifies the image under any root: class folder and name.
    parts = saved.replace('\\', '/').split('/')
    in_class_folder = osp.join(data_root, *parts[-2:])
    return in_class_folder if osp.isfile(in_class_folder) else \
        osp.join(data_root, parts[-1])


def gallery(predictions: dict, indices, names, title: str, columns: int,
            size: str, data_root=None):
    import mmcv

    from mmpre_inception.analysis.figures import new_figure
    rows = max(1, math.ceil(len(indices) / columns))
    fig = new_figure(size or f'1000x{60 + rows * (1000 // columns + 40)}')
    fig.suptitle(title)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes:
        ax.axis('off')
    for ax, index in zip(axes, indices):
        path = image_path(predictions['img_paths'][index], data_root)
        if not osp.isfile(path):
            raise ConfigError(
                f'image not found: {path!r} (sample {index}); run where '
                'tools/test.py ran or give --data-root')
        ax.imshow(mmcv.imread(path, channel_order='rgb'))
        sample = describe(predictions, index, names)
        ax.set_title(f'true: {sample["true"]}\npred: {sample["pred"]} '
                     f'{sample["score"]:.2f}', fontsize='small')
    if not indices:
        axes[0].text(0.5, 0.5, 'none', ha='center', va='center')
    fig.tight_layout()
    return fig


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line() as outcome:
        from mmpre_inception import register_all_modules
        from mmpre_inception.analysis.figures import save_png
        from mmpre_inception.analysis.predictions import (class_names,
                                                          load_predictions)
        from mmpre_inception.apis import load_config
        from mmpre_inception.apis import write_json
        register_all_modules(init_default_scope=False)
        if args.topk < 1 or args.columns < 1:
            raise ConfigError('--topk and --columns: give 1 or more')
        predictions = load_predictions(args.pkl_results)
        cfg = load_config(args.config) if args.config else None
        names = class_names(cfg, predictions['scores'].shape[1])
        chosen = select(predictions, args.topk)
        listing = {}
        for kind in ('success', 'failure'):
            fig = gallery(predictions, chosen[kind], names,
                          f'most confident {kind}s ({len(chosen[kind])} '
                          'shown)', args.columns, args.size, args.data_root)
            save_png(fig, osp.join(args.out_dir, f'{kind}.png'))
            listing[kind] = [describe(predictions, index, names)
                             for index in chosen[kind]]
        write_json(listing, osp.join(args.out_dir, 'galleries.json'))
        print(f'{len(listing["success"])} successes and '
              f'{len(listing["failure"])} failures shown: {args.out_dir}/'
              '{success,failure}.png, galleries.json')
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
