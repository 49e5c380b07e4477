"""What a config's data pipeline does to images: one row per image, one
panel per step (the decoded original, then each transform), and in
training last the data preprocessor's batch augmentation
(``model.train_cfg.augments``: Mixup / CutMix) with the soft labels it
made.

mmpretrain's command line works as is. Each step is the config's own
transform, applied in order to the same sample; the batch step is the
model's data preprocessor in training mode, as a training step runs it.
``PackInputs`` only converts, so it has no panel. All rows go into one
PNG: ``--out FILE``, or ``PHASE_MODE.png`` in ``-o/--output-dir``.

Example:
    python tools/visualization/browse_dataset.py \\
        configs/inception_v3_8xb64_mixup_randaug_cos_in1k.py \\
        -o browse -n 4 -m pipeline -p train --not-show
"""
import argparse
import copy
import os.path as osp
import sys
from typing import List, Optional

import numpy as np

from mmpre_inception.apis.cli import (add_cfg_options, command_line,
                                      positive_float, positive_int, seed_int,
                                      tool_parser)
from mmpre_inception.errors import ConfigError

# Ours, not mmpretrain's browse_dataset.py: in mmpretrain 1.2.0 it fails
# with adjust_bbox() missing 'renderer' (matplotlib's bbox_inches='tight'),
# on its own configs too.

# browse_dataset's -m/--mode: which panels of a row are drawn.
MODES = ('original', 'transformed', 'concat', 'pipeline')


def step_name(transform_cfg) -> str:
    kind = transform_cfg['type']
    return kind if isinstance(kind, str) else kind.__name__


def browse(cfg, num_images: int, seed: int, phase: str = 'train') -> dict:
    """Run the ``phase`` pipeline step by step on ``num_images`` images;
    in training, the data preprocessor's batch augments last.

    Args:
        cfg (Config): A config.
        num_images (int): How many images, chosen at random.
        seed (int): Seed of that choice and of the random transforms.
        phase (str): ``'train'``, ``'val'`` or ``'test'``: whose data
            loader.

    Returns:
        dict: ``steps`` (panel names), ``images`` (one list of RGB uint8
        arrays per image, one array per step), ``soft_labels`` (per image,
        the batch step's ``(class index, weight)`` pairs, largest first;
        empty without batch augments), ``indices`` (the samples used).
    """
    import torch
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import DefaultScope

    from mmpre_inception.registry import DATASETS, MODELS, TRANSFORMS

    dataset_cfg = copy.deepcopy(cfg[f'{phase}_dataloader'].dataset)
    pipeline_cfgs = dataset_cfg.pop('pipeline')
    dataset_cfg['pipeline'] = []
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        dataset = DATASETS.build(dataset_cfg)
        transforms = [TRANSFORMS.build(t) for t in pipeline_cfgs]
    names = [step_name(t) for t in pipeline_cfgs]
    rng = np.random.default_rng(seed)
    indices = sorted(rng.choice(len(dataset), min(num_images, len(dataset)),
                                replace=False).tolist())
    np.random.seed(seed)  # mmcv/mmpretrain transforms draw from numpy
    torch.manual_seed(seed)

    steps, images, packed = [], [], []
    for index in indices:
        results, row = dataset.get_data_info(index), []
        for name, transform in zip(names, transforms):
            results = transform(results)
            if 'img' in results and 'inputs' not in results:
                row.append(np.ascontiguousarray(results['img'][..., ::-1]))
                if len(images) == 0:
                    steps.append('original' if len(steps) == 0 else name)
        images.append(row)
        packed.append(results)

    soft_labels = [[] for _ in indices]
    if phase != 'train' or 'inputs' not in packed[0]:
        return dict(steps=steps, images=images, soft_labels=soft_labels,
                    indices=indices)
    # The data preprocessor as the classifier builds it: its batch_augments
    # come from model.train_cfg.augments or its own config. The weights
    # are not needed (nor initialised).
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        preprocessor = MODELS.build(dict(
            cfg.model,
            data_preprocessor=cfg.get('data_preprocessor'))).data_preprocessor
    if preprocessor.batch_augments is not None:
        batch = preprocessor(pseudo_collate(packed), training=True)
        mean = preprocessor.mean.view(-1, 1, 1)
        std = preprocessor.std.view(-1, 1, 1)
        for position, (tensor, sample) in enumerate(
                zip(batch['inputs'], batch['data_samples'])):
            pixels = (tensor * std + mean).clamp(0, 255).byte()
            pixels = pixels.permute(1, 2, 0).numpy()
            if not preprocessor.to_rgb:
                pixels = pixels[..., ::-1]
            images[position].append(np.ascontiguousarray(pixels))
            score = sample.gt_score
            top = score.topk(min(2, len(score)))
            soft_labels[position] = [
                (int(c), float(w)) for w, c in zip(top.values, top.indices)
                if w > 0]
        kinds = '/'.join(type(augment).__name__ for augment in
                         preprocessor.batch_augments.augments if augment)
        steps.append(f'{kinds} (batch)')
    return dict(steps=steps, images=images, soft_labels=soft_labels,
                indices=indices)


def select_mode(browsed: dict, mode: str) -> dict:
    """Keep the panels ``mode`` shows: the decoded image (``original``),
    what the network gets (``transformed``: the last step), both
    (``concat``) or every step (``pipeline``)."""
    if mode not in MODES:
        raise ConfigError(f'--mode {mode}: choose one of {", ".join(MODES)}')
    last = len(browsed['steps']) - 1
    keep = {'original': [0], 'transformed': [last], 'concat': [0, last],
            'pipeline': list(range(last + 1))}[mode]
    keep = sorted(set(keep))
    return dict(browsed, steps=[browsed['steps'][i] for i in keep],
                images=[[row[i] for i in keep] for row in browsed['images']],
                soft_labels=browsed['soft_labels'] if last in keep else
                [[] for _ in browsed['images']])


def plot_grid(browsed: dict, names: List[str], size: Optional[str],
              panel: int = 200):
    """One row per image, one panel per step, ``panel`` pixels wide."""
    from mmpre_inception.analysis.figures import new_figure
    rows, columns = len(browsed['images']), len(browsed['steps'])
    fig = new_figure(size or
                     f'{panel * columns}x{50 + (panel + 30) * rows}')
    axes = fig.subplots(rows, columns, squeeze=False)
    for row, (panels, soft) in enumerate(
            zip(browsed['images'], browsed['soft_labels'])):
        for column, (ax, image) in enumerate(zip(axes[row], panels)):
            ax.imshow(image)
            ax.set_xticks([])
            ax.set_yticks([])
            title = browsed['steps'][column] if row == 0 else ''
            if soft and column == columns - 1:
                title += ('\n' if title else '') + '\n+ '.join(
                    f'{w:.2f} {names[c]}' for c, w in soft)
            ax.set_title(title, fontsize='small')
    fig.tight_layout()
    return fig


def draw_pipeline(config: str, save_path: str, *, phase: str = 'train',
                  mode: str = 'pipeline', num_images: int = 4,
                  seed: int = 0, size: Optional[str] = None,
                  rescale_factor: float = 1.0,
                  cfg_options: Optional[dict] = None) -> dict:
    """Browse a config's pipeline and write the grid as one PNG.

    Args:
        config (str): The config file.
        save_path (str): The PNG to write.
        phase (str): ``'train'``, ``'val'`` or ``'test'``.
        mode (str): One of :data:`MODES`.
        num_images (int): Rows.
        seed (int): Picks the images and the random transforms.
        size (str, optional): Pixels, ``'WxH'``; default 200 per panel
            times ``rescale_factor``.
        rescale_factor (float): Scales the default panel size.
        cfg_options (dict, optional): ``--cfg-options``.

    Returns:
        dict: :func:`browse`'s result, as drawn.
    """
    from mmpre_inception.analysis.figures import save_png
    from mmpre_inception.analysis.predictions import class_names
    from mmpre_inception.apis import load_config
    if num_images < 1:
        raise ConfigError(f'--show-number {num_images}: give 1 or more')
    if rescale_factor <= 0:
        raise ConfigError(f'--rescale-factor {rescale_factor}: give a '
                          'positive factor')
    cfg = load_config(config, cfg_options)
    loader = f'{phase}_dataloader'
    if not cfg.get(loader):
        raise ConfigError(f'--phase {phase}: {config} has no {loader}')
    try:
        browsed = browse(cfg, num_images, seed, phase)
    except OSError as error:
        raise ConfigError(
            f'{config}: cannot read the {phase} set ({error}); point '
            f'{loader}.dataset.data_root at it with --cfg-options') from error
    browsed = select_mode(browsed, mode)
    names = class_names(cfg, cfg.model.head.num_classes, loader)
    save_png(plot_grid(browsed, names, size, round(200 * rescale_factor)),
             save_path)
    return browsed


NO_WINDOW = ('accepted for mmpretrain\'s command line; this tool opens no '
             'window, it writes the picture')


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    parser.add_argument('config')
    parser.add_argument('-o', '--output-dir',
                        help='write PHASE_MODE.png here')
    parser.add_argument('--out', help='or write this PNG')
    parser.add_argument('-p', '--phase', choices=['train', 'val', 'test'],
                        default='train')
    parser.add_argument('-n', '--show-number', '--num-images',
                        type=positive_int, default=4, dest='show_number',
                        help='images, one row each (default 4: one '
                        'picture holds them all)')
    parser.add_argument('-m', '--mode', default='pipeline',
                        choices=['original', 'transformed', 'concat',
                                 'pipeline'],
                        help='panels per row: the decoded image, the last '
                        'step, both, or every step (default: pipeline, '
                        'what this picture is for)')
    parser.add_argument('-r', '--rescale-factor', type=positive_float,
                        default=1.0,
                        help='scale the 200-pixel panels')
    parser.add_argument('--seed', type=seed_int, default=0,
                        help='picks the images and the random transforms')
    parser.add_argument('--size', help='pixels, WxH (default: 200 per panel)')
    parser.add_argument('--not-show', action='store_true', help=NO_WINDOW)
    parser.add_argument('-i', '--show-interval', type=float, help=NO_WINDOW)
    parser.add_argument('-c', '--channel-order', choices=['BGR', 'RGB'],
                        help='accepted for mmpretrain\'s command line; the '
                        'panels are always drawn in true colour')
    add_cfg_options(parser)
    return parser.parse_args(argv)


def output_path(args) -> str:
    if bool(args.out) == bool(args.output_dir):
        raise ConfigError('give -o/--output-dir DIR or --out FILE (one of '
                          'them): this tool opens no window')
    return args.out or osp.join(args.output_dir,
                                f'{args.phase}_{args.mode}.png')


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line(register_modules=True) as outcome:
        path = output_path(args)
        browsed = draw_pipeline(
            args.config, path, phase=args.phase, mode=args.mode,
            num_images=args.show_number, seed=args.seed, size=args.size,
            rescale_factor=args.rescale_factor, cfg_options=args.cfg_options)
        print(f'{len(browsed["images"])} images x {len(browsed["steps"])} '
              f'steps ({", ".join(browsed["steps"])}): {path}')
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
