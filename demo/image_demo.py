"""Print the top-5 classes of an image.

Example:
    python demo/image_demo.py dog.jpg configs/inception_v3_8xb32_in1k.py \
        inception_v3_tv_in1k.pth
"""
import argparse
import sys

from mmpre_inception.apis import ImageClassifier
from mmpre_inception.datasets import UnreadableImageError
from mmpre_inception.utils import CheckpointError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('img', help='image file')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--device', default='cpu', help='e.g. cuda:0')
    parser.add_argument('--topk', type=int, default=5)
    args = parser.parse_args(argv)
    try:
        classifier = ImageClassifier(args.config, args.checkpoint,
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
