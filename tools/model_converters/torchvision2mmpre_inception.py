"""Convert torchvision's Inception V3 weights for mmpre_inception.

The result evaluates with configs/inception_v3_8xb32_in1k.py (ImageNet
mean/std): torchvision's ``transform_input`` step is folded into the stem.

Example:
    python tools/model_converters/torchvision2mmpre_inception.py \\
        inception_v3_google-0cc3c7bd.pth inception_v3_tv_in1k.pth
"""
import argparse
import sys

from mmpre_inception.apis.cli import command_line, tool_parser


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    parser.add_argument('src', help='torchvision state dict (.pth)')
    parser.add_argument('dst', help='output checkpoint')
    parser.add_argument(
        '--no-transform-input', action='store_true',
        help='the source model was built with transform_input=False (not '
        "torchvision's pretrained weights)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line() as outcome:
        from mmpre_inception.apis.conversion import convert_torchvision_file
        count = convert_torchvision_file(
            args.src, args.dst, transform_input=not args.no_transform_input)
        print(f'Converted {args.src} -> {args.dst} ({count} tensors)')
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
