"""Convert TensorFlow's Inception V3 (Keras weights) for mmpre_inception.

Reads Keras weights (``keras.applications.InceptionV3``: the official
``inception_v3_weights_tf_dim_ordering_tf_kernels.h5``, or a
``.weights.h5`` saved by Keras 3); needs TensorFlow/Keras
(requirements/optional.txt). Evaluate the result with
configs/tensorflow/inception_v3_keras_in1k.py.

Example:
    python tools/model_converters/keras2mmpre_inception.py \\
        inception_v3_weights_tf_dim_ordering_tf_kernels.h5 \\
        inception_v3_keras_in1k.pth
"""
import argparse
import sys

from mmpre_inception.apis.cli import command_line, tool_parser


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    parser.add_argument('src', help='Keras weights (.h5 / .weights.h5)')
    parser.add_argument('dst', help='output checkpoint')
    parser.add_argument(
        '--classes', type=int, choices=(1000, 1001), default=1000,
        help="classifier size in the file: 1000, or 1001 with TF-slim's "
        'background class (dropped in the output)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line() as outcome:
        # torch before TensorFlow: the other order can crash at import.
        from mmpre_inception.apis.conversion import convert_keras_file
        config = convert_keras_file(args.src, args.dst, args.classes)
        print(f'Converted {args.src} -> {args.dst}; evaluate with {config}')
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
