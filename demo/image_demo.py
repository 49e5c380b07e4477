"""Print the top-5 classes of an image.

Example (after `make demo`, which trains the shapes model):
    python demo/image_demo.py demo/star.jpg \\
        configs/demo/inception_v3_1xb16_shapes.py work_dirs/demo/epoch_3.pth

With ImageNet weights (docs/model_zoo.md) and your own image:
    python demo/image_demo.py IMAGE configs/inception_v3_8xb32_in1k.py CKPT
"""
import argparse
import sys

from mmpre_inception.apis.cli import command_line, positive_int, tool_parser


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    parser.add_argument('img', help='image file')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--device', default='cpu', help='e.g. cuda:0')
    parser.add_argument('--topk', type=positive_int, default=5,
                        help='how many classes to print (default 5)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line() as outcome:
        from mmpre_inception import apis
        apis.check_file_exists(args.img, 'image')
        apis.check_file_exists(args.checkpoint, 'checkpoint')
        classifier = apis.ImagePredictor(args.config, args.checkpoint,
                                         args.device)
        (result, ) = classifier(args.img, topk=args.topk)
        for rank, (label, score, name) in enumerate(result['topk'], 1):
            print(f'{rank}. {score:7.2%}  {label:4d}  {name or ""}')
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
