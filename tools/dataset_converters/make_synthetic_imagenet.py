"""Write the generated shapes data set in ImageNet layout.

Example:
    python tools/dataset_converters/make_synthetic_imagenet.py data/shapes
"""
import argparse
import sys

from mmpre_inception.apis.cli import (MAX_SIDE, command_line, int_in,
                                      positive_int, seed_int, tool_parser)


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
        from mmpre_inception.apis import make_synthetic_imagenet
        info = make_synthetic_imagenet(args.root, args.train_per_class,
                                       args.val_per_class, args.image_size,
                                       seed=args.seed,
                                       imagenet_sizes=args.imagenet_sizes)
        print(f"Wrote {info['train']} training and {info['val']} validation "
              f"images of {len(info['classes'])} classes to {info['root']}")
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
