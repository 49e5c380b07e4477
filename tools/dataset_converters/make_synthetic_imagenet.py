"""Write the generated shapes data set in ImageNet layout.

A small, learnable image-classification data set, so that ``make demo``
and the tests download nothing. Each of the ten classes is a shape,
filled or outlined, drawn in its own hue on a noisy background with
random position, size, rotation and brightness, so a network has to
learn more than a constant, yet a few epochs reach well above chance
(10% top-1, 50% top-5).

Example:
    python tools/dataset_converters/make_synthetic_imagenet.py data/shapes
"""
import argparse
import math
import os
import os.path as osp
import sys
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw

from mmpre_inception.apis.cli import (MAX_SIDE, command_line, int_in,
                                      positive_int, seed_int, tool_parser)

_BASE_SHAPES = ('circle', 'square', 'triangle', 'cross', 'star')
SHAPES = _BASE_SHAPES + tuple(f'{name}_outline' for name in _BASE_SHAPES)


def _shape_polygons(shape: str, cx: float, cy: float, radius: float,
                    angle: float) -> list:
    if shape == 'cross':
        half = radius / 3
        polygons = []
        for bar_angle in (angle, angle + math.pi / 2):
            dx, dy = math.cos(bar_angle), math.sin(bar_angle)
            polygons.append([(cx + s * radius * dx - t * half * dy,
                              cy + s * radius * dy + t * half * dx)
                             for s, t in ((-1, -1), (1, -1), (1, 1),
                                          (-1, 1))])
        return polygons
    if shape == 'star':
        return [[(cx + r * math.cos(angle + math.pi * k / 5),
                  cy + r * math.sin(angle + math.pi * k / 5))
                 for k, r in enumerate([radius, radius * 0.45] * 5)]]
    sides = {'square': 4, 'triangle': 3}[shape]
    return [[(cx + radius * math.cos(angle + 2 * math.pi * k / sides),
              cy + radius * math.sin(angle + 2 * math.pi * k / sides))
             for k in range(sides)]]


def _draw_shape(draw: ImageDraw.ImageDraw, shape: str, cx: float, cy: float,
                radius: float, angle: float, color: tuple,
                line_width: int) -> None:
    outline = shape.endswith('_outline')
    shape = shape.replace('_outline', '')
    fill, line = (None, color) if outline else (color, None)
    width = line_width if outline else 0
    if shape == 'circle':
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius],
                     fill=fill, outline=line, width=width)
        return
    for polygon in _shape_polygons(shape, cx, cy, radius, angle):
        draw.polygon(polygon, fill=fill, outline=line, width=width)


def render_image(label: int, size: int, rng: np.random.Generator,
                 classes: Sequence[str] = SHAPES) -> Image.Image:
    """Render one RGB image of class ``label``.

    Args:
        label (int): Class index into ``classes``.
        size (int): Side length in pixels.
        rng (np.random.Generator): Source of randomness.
        classes (Sequence[str]): Shape names, a subset of :data:`SHAPES`.

    Returns:
        PIL.Image.Image: A ``size`` x ``size`` RGB image.
    """
    background = rng.integers(40, 110, size=(size, size, 3), dtype=np.uint8)
    image = Image.fromarray(background, 'RGB')
    hue = 2 * math.pi * label / len(classes)
    brightness = rng.uniform(0.7, 1.0)
    color = tuple(
        int(255 * brightness * (0.55 + 0.45 * math.cos(hue + shift)))
        for shift in (0, 2 * math.pi / 3, 4 * math.pi / 3))
    radius = rng.uniform(0.22, 0.38) * size
    cx, cy = rng.uniform(radius, size - radius, size=2)
    _draw_shape(
        ImageDraw.Draw(image), classes[label], cx, cy, radius,
        rng.uniform(0, 2 * math.pi), color, max(2, size // 16))
    return image


# (width, height) of ImageNet photos and how often each kind occurs; the
# last kind's long side is drawn from 600..1600 at 4:3.
_IMAGENET_SIZES = (((500, 375), 0.65), ((375, 500), 0.15),
                   ((500, 333), 0.10), ((333, 500), 0.05), (None, 0.05))


def photo_like(picture: Image.Image, rng: np.random.Generator
               ) -> Image.Image:
    """``picture`` at a size drawn from :data:`_IMAGENET_SIZES`, with a
    sensor-like grain, so that its JPEG weighs what a photo does."""
    kinds = [size for size, _ in _IMAGENET_SIZES]
    size = kinds[rng.choice(len(kinds), p=[p for _, p in _IMAGENET_SIZES])]
    if size is None:
        long_side = int(rng.integers(600, 1601))
        size = (long_side, long_side * 3 // 4)
    pixels = np.asarray(picture.resize(size, Image.BILINEAR), np.float32)
    pixels = pixels + rng.normal(0, 12, pixels.shape)
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


def make_synthetic_imagenet(root: str,
                            train_per_class: int = 40,
                            val_per_class: int = 10,
                            image_size: int = 112,
                            classes: Sequence[str] = SHAPES,
                            seed: int = 0,
                            imagenet_sizes: bool = False) -> dict:
    """Write a shapes data set in ImageNet layout under ``root``.

    Layout: ``train/<class>/<name>.JPEG``, ``val/<name>.JPEG``,
    ``meta/train.txt`` and ``meta/val.txt`` (``relative/path label``), and
    ``meta/classes.txt`` (one class name a line).

    Args:
        root (str): Output folder; created if missing.
        train_per_class (int): Training images per class. Defaults to 40.
        val_per_class (int): Validation images per class. Defaults to 10.
        image_size (int): Image side in pixels. Defaults to 112.
        classes (Sequence[str]): Shape names from :data:`SHAPES`.
        seed (int): Random seed; the same seed writes the same files.
        imagenet_sizes (bool): Give the images ImageNet's usual sizes
            (mostly 500x375 and 375x500, some 500x333 and larger) and a
            grain, so that the files are as large as photos' (about
            100 KB) and decode as slowly: for loader benchmarks.

    Returns:
        dict: ``root``, ``classes``, and the ``train``/``val`` sample counts.

    Example:
        >>> import tempfile
        >>> info = make_synthetic_imagenet(tempfile.mkdtemp(), 2, 1, 80)
        >>> info['train'], info['val'], info['classes'][:2]
        (20, 10, ('circle', 'square'))
    """
    unknown = set(classes) - set(SHAPES)
    if unknown:
        raise ValueError(f'Unknown shape classes {sorted(unknown)}; '
                         f'choose from {SHAPES}.')
    rng = np.random.default_rng(seed)

    def image(label):
        picture = render_image(label, image_size, rng, classes)
        return photo_like(picture, rng) if imagenet_sizes else picture

    os.makedirs(osp.join(root, 'meta'), exist_ok=True)
    os.makedirs(osp.join(root, 'val'), exist_ok=True)
    train_lines, val_lines = [], []
    for label, name in enumerate(classes):
        os.makedirs(osp.join(root, 'train', name), exist_ok=True)
        for i in range(train_per_class):
            rel = f'{name}/{name}_{i:04d}.JPEG'
            image(label).save(osp.join(root, 'train', rel), quality=92)
            train_lines.append(f'{rel} {label}')
        for i in range(val_per_class):
            rel = f'val_{name}_{i:04d}.JPEG'
            image(label).save(osp.join(root, 'val', rel), quality=92)
            val_lines.append(f'{rel} {label}')
    for split, lines in (('train', train_lines), ('val', val_lines)):
        with open(osp.join(root, 'meta', f'{split}.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
    with open(osp.join(root, 'meta', 'classes.txt'), 'w') as f:
        f.write('\n'.join(classes) + '\n')
    return dict(
        root=root,
        classes=tuple(classes),
        train=len(train_lines),
        val=len(val_lines))


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    parser.add_argument('root', help='output folder')
    parser.add_argument('--train-per-class', type=positive_int, default=40)
    parser.add_argument('--val-per-class', type=positive_int, default=10)
    parser.add_argument('--image-size', type=int_in(16, MAX_SIDE),
                        default=112)
    parser.add_argument('--seed', type=seed_int, default=0)
    parser.add_argument('--imagenet-sizes', action='store_true',
                        help="ImageNet's usual sizes and photo-sized files "
                        '(about 100 KB), for loader benchmarks')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line() as outcome:
        info = make_synthetic_imagenet(args.root, args.train_per_class,
                                       args.val_per_class, args.image_size,
                                       seed=args.seed,
                                       imagenet_sizes=args.imagenet_sizes)
        print(f"Wrote {info['train']} training and {info['val']} validation "
              f"images of {len(info['classes'])} classes to {info['root']}")
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
