"""Write the generated shapes data set in ImageNet layout.

Example:
    python tools/dataset_converters/make_synthetic_imagenet.py data/shapes
"""
import argparse

from mmpre_inception.utils import silence_known_warnings

silence_known_warnings()  # before mmcv and mmpretrain warn on import

from mmpre_inception.datasets import make_synthetic_imagenet  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='output folder')
    parser.add_argument('--train-per-class', type=int, default=40)
    parser.add_argument('--val-per-class', type=int, default=10)
    parser.add_argument('--image-size', type=int, default=112)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    info = make_synthetic_imagenet(args.root, args.train_per_class,
                                   args.val_per_class, args.image_size,
                                   seed=args.seed)
    print(f"Wrote {info['train']} training and {info['val']} validation "
          f"images of {len(info['classes'])} classes to {info['root']}")


if __name__ == '__main__':
    main()
