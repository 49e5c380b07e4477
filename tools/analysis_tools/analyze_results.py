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
import math
import os.path as osp
import sys
from typing import List, Optional

import numpy as np

from mmpre_inception.apis.cli import (add_cfg_options, command_line,
                                      positive_float, positive_int,
                                      tool_parser)
from mmpre_inception.errors import ConfigError

# Ours, not mmpretrain's analyze_results.py: it reads a result file with
# plain unpickling (a payload in it runs) and writes one file per image.

#: The smallest image panel a gallery draws, in pixels.
MIN_PANEL = 16


def describe(predictions: dict, index: int, names: List[str]) -> dict:
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


def image_path(saved: str, data_root: Optional[str]) -> str:
    """Where to read a saved image path from: as saved, or under
    ``data_root`` with its class folder and name kept."""
    if data_root is None:
        return saved
    parts = saved.replace('\\', '/').split('/')
    in_class_folder = osp.join(data_root, *parts[-2:])
    return in_class_folder if osp.isfile(in_class_folder) else \
        osp.join(data_root, parts[-1])


def gallery(predictions: dict, indices, names, title: str, columns: int,
            size: Optional[str], data_root: Optional[str] = None,
            panel_scale: float = 1.0):
    """One figure of the ``indices`` samples, each titled with its true
    and predicted class and the predicted score."""
    import mmcv

    from mmpre_inception.analysis.figures import new_figure
    rows = max(1, math.ceil(len(indices) / columns))
    panel = round(1000 * panel_scale) // columns
    if panel < MIN_PANEL and not size:
        raise ConfigError(
            f'--columns {columns}: panels of {panel} pixels in a '
            f'{round(1000 * panel_scale)}-pixel row; give fewer columns or '
            'a larger --rescale-factor')
    fig = new_figure(size or
                     f'{panel * columns}x{60 + rows * (panel + 40)}')
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


def draw_galleries(config: str, result: str, out_dir: str, *,
                   topk: int = 20, columns: int = 5,
                   size: Optional[str] = None,
                   rescale_factor: float = 1.0,
                   data_root: Optional[str] = None,
                   cfg_options: Optional[dict] = None) -> dict:
    """Write ``success.png``, ``failure.png`` and ``galleries.json`` (the
    images shown, in order) to ``out_dir``.

    Args:
        config (str): The test config (class names).
        result (str): A ``tools/test.py --out`` file.
        out_dir (str): Where to write.
        topk (int): Images per gallery.
        columns (int): Panels per row.
        size (str, optional): Pixels, ``'WxH'``; default 1000 wide times
            ``rescale_factor``.
        rescale_factor (float): Scales the default size.
        data_root (str, optional): Read the images from here.
        cfg_options (dict, optional): ``--cfg-options``.

    Returns:
        dict: ``success`` and ``failure``: :func:`describe` of each image
        shown.
    """
    from mmpre_inception.analysis.figures import save_png
    from mmpre_inception.analysis.predictions import (check_predictions_fit,
                                                      class_names,
                                                      load_predictions)
    from mmpre_inception.apis import load_config, write_json
    if topk < 1 or columns < 1:
        raise ConfigError('--topk and --columns: give 1 or more')
    if rescale_factor <= 0:
        raise ConfigError(f'--rescale-factor {rescale_factor}: give a '
                          'positive factor')
    cfg = load_config(config, cfg_options)
    predictions = load_predictions(result)
    check_predictions_fit(cfg, predictions, result)
    names = class_names(cfg, predictions['scores'].shape[1])
    chosen = select(predictions, topk)
    listing = {}
    for kind in ('success', 'failure'):
        fig = gallery(predictions, chosen[kind], names,
                      f'most confident {kind}s ({len(chosen[kind])} shown)',
                      columns, size, data_root, rescale_factor)
        save_png(fig, osp.join(out_dir, f'{kind}.png'))
        listing[kind] = [describe(predictions, index, names)
                         for index in chosen[kind]]
    write_json(listing, osp.join(out_dir, 'galleries.json'))
    return listing


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
