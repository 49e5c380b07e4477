"""Convert timm's Inception V3 weights for mmpre_inception.

Evaluate the result with the config of its tag, which carries timm's
normalisation and resize for it (configs/timm/):

    tv, tf, tf_adv -> configs/timm/inception_v3_timm_tf_norm_in1k.py
    gluon          -> configs/timm/inception_v3_timm_gluon_in1k.py

Example:
    python tools/model_converters/timm2mmpre_inception.py \\
        inception_v3.tf_in1k.pth inception_v3_timm-tf_in1k.pth --variant tf
"""
import argparse
import sys

from mmpre_inception.apis.cli import command_line, tool_parser

VARIANTS = ('tv', 'tf', 'tf_adv', 'gluon')


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    parser.add_argument('src',
                        help='timm state dict (.safetensors, .pth or .bin)')
    parser.add_argument('dst', help='output checkpoint')
    parser.add_argument('--variant', required=True, choices=VARIANTS,
                        help='timm tag: inception_v3.<variant>_in1k')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line() as outcome:
        from mmpre_inception.apis.conversion import convert_timm_file
        config = convert_timm_file(args.src, args.dst, args.variant)
        print(f'Converted {args.src} -> {args.dst}; evaluate with {config}')
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
