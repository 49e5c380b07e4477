"""Print the top-5 classes of an image.

Example (after `make demo`, which trains the shapes model):
    python demo/image_demo.py demo/star.jpg \
        configs/demo/inception_v3_1xb16_shapes.py work_dirs/demo/epoch_6.pth

With ImageNet weights (docs/model_zoo.md) and your own image:
    python demo/image_demo.py IMAGE configs/inception_v3_8xb32_in1k.py CKPT
"""
import argparse
import sys

from mmpre_inception.utils import silence_known_warnings

silence_known_warnings()  # before mmcv and mmpretrain warn on import

from mmpre_inception.apis import ImagePredictor  # noqa: E402
from mmpre_inception.checkpoint import CheckpointError  # noqa: E402
from mmpre_inception.datasets import UnreadableImageError  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('img', help='image file')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--device', default='cpu', help='e.g. cuda:0')
    parser.add_argument('--topk', type=int, default=5)
    args = parser.parse_args(argv)
    try:
        classifier = ImagePredictor(args.config, args.checkpoint,
                                     args.device)
        (result, ) = classifier(args.img, topk=args.topk)
    except (CheckpointError, UnreadableImageError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    for rank, (label, score, name) in enumerate(result['topk'], start=1):
        print(f'{rank}. {score:7.2%}  {label:4d}  {name or ""}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
