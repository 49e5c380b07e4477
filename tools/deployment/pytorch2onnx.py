"""Export a classifier to ONNX, with a dynamic batch axis.

The graph takes ``image``: float32 RGB in 0..255, N x 3 x H x W, already
resized and cropped as the config's test pipeline does (299 x 299 for the
ImageNet configs); normalisation is inside. It returns ``logits``. BatchNorm
is folded into the convolutions first unless --no-fold-bn.

Example:
    python tools/deployment/pytorch2onnx.py \\
        configs/inception_v3_8xb32_in1k.py inception_v3_tv_in1k.pth \\
        --output-file inception_v3.onnx
"""
import argparse
import sys

from mmpre_inception.apis.cli import (MAX_SIDE, MIN_SIDE, command_line, int_in,
                                      tool_parser)


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--output-file', default='inception_v3.onnx')
    parser.add_argument('--shape', type=int_in(MIN_SIDE, MAX_SIDE),
                        default=299,
                        help='input height and width')
    parser.add_argument('--opset', type=int_in(7), default=17,
                        help='ONNX opset (torch says which it exports)')
    parser.add_argument('--no-fold-bn', action='store_true')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line() as outcome:
        from mmpre_inception import apis
        apis.check_output_file(args.output_file, '--output-file')
        apis.check_file_exists(args.checkpoint, 'checkpoint')
        apis.export_onnx(args.config, args.checkpoint, args.output_file,
                         shape=args.shape, opset=args.opset,
                         fold_bn=not args.no_fold_bn)
        print(f'Exported {args.output_file}')
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
