"""FLOPs and parameters of a config's model at inference, per image.

FLOPs are counted with mmcv 1.x's rules, those of OpenMMLab's model zoo
(mmpre_inception/analysis/flops.py); the auxiliary classifier, which only
training runs, is left out of both figures.

Example:
    python tools/analysis_tools/get_flops.py configs/inception_v3_8xb32_in1k.py
"""
import argparse
import sys

from mmpre_inception.apis.cli import command_line, positive_int, tool_parser


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    parser.add_argument('config')
    parser.add_argument('--shape', type=positive_int, nargs='+',
                        default=[299],
                        help='input size: one value, or height and width')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line() as outcome:
        from mmpre_inception.analysis import count_inference_flops
        height, width = (args.shape * 2)[:2]
        counts, params = count_inference_flops(args.config, height, width)
        print(f'Input shape: (3, {height}, {width})')
        print(f'FLOPs: {counts["total"] / 1e9:.2f} G ({counts["total"]:,}; '
              'mmcv 1.x rules: conv, fc, BatchNorm, ReLU, pooling)')
        print('  ' + ', '.join(f'{kind} {value:,}' for kind, value in
                               counts.items() if kind != 'total'))
        print(f'Params: {params / 1e6:.2f} M ({params:,}; without the '
              'auxiliary classifier)')
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
