"""What a config's training pipeline does to images: one row per image,
one panel per step (the decoded original, then each transform), and last
the data preprocessor's batch augmentation (``model.train_cfg.augments``:
Mixup / CutMix) with the soft labels it made.

Each step is the config's own transform, applied in order to the same
sample; the batch step is the model's data preprocessor in training mode,
as a training step runs it. ``PackInputs`` only converts, so it has no
panel. Errors are one line on stderr, exit status 2.

Example:
    python tools/visualization/browse_dataset.py \\
        configs/inception_v3_8xb64_mixup_randaug_cos_in1k.py \\
        --num-images 4 --out augmentations.png
"""
import argparse
import copy
import sys

import numpy as np
from mmengine.config import DictAction

from mmpre_inception.apis.cli import command_line, tool_parser
from mmpre_inception.errors import ConfigError


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    parser.add_argument('config')
    parser.add_argument('--num-images', type=int, default=4)
    parser.add_argument('--seed', type=int, default=0,
                        help='picks the images and the random transforms')
    parser.add_argument('--size', help='pixels, WxH (default: 200 per panel)')
    parser.add_argument('--out', required=True, help='PNG to write')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        metavar='KEY=VALUE',
                        help='override config keys, as tools/train.py does')
    return parser.parse_args(argv)


def step_name(transform_cfg) -> str:
    kind = transform_cfg['type']
    return kind if isinstance(kind, str) else kind.__name__


def browse(cfg, num_images: int, seed: int) -> dict:
    """Run the training pipeline step by step on ``num_images`` images.

    Args:
        cfg (Config): A training config.
        num_images (int): How many training images, chosen at random.
        seed (int): Seed of that choice and of the random transforms.

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

    dataset_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
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
    if 'inputs' not in packed[0]:
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


def plot_grid(browsed: dict, names, size):
    from mmpre_inception.analysis.figures import new_figure
    rows, columns = len(browsed['images']), len(browsed['steps'])
    fig = new_figure(size or f'{200 * columns}x{50 + 230 * rows}')
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


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line() as outcome:
        from mmpre_inception import register_all_modules
        from mmpre_inception.analysis.figures import save_png
        from mmpre_inception.analysis.predictions import class_names
        from mmpre_inception.apis import load_config
        register_all_modules(init_default_scope=False)
        if args.num_images < 1:
            raise ConfigError(f'--num-images {args.num_images}: give 1 or '
                              'more')
        cfg = load_config(args.config, args.cfg_options)
        try:
            browsed = browse(cfg, args.num_images, args.seed)
        except OSError as error:
            raise ConfigError(
                f'{args.config}: cannot read the training set ({error}); '
                'point train_dataloader.dataset.data_root at it with '
                '--cfg-options') from error
        names = class_names(cfg, cfg.model.head.num_classes,
                            'train_dataloader')
        save_png(plot_grid(browsed, names, args.size), args.out)
        print(f'{len(browsed["images"])} images x {len(browsed["steps"])} '
              f'steps ({", ".join(browsed["steps"])}): {args.out}')
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
