"""Turn a training checkpoint into a release file, as OpenMMLab publishes.

Keeps ``state_dict`` and ``meta``; drops the optimizer, message hub and
scheduler state, which only resuming needs. The output is named
``<OUT stem>-<first 8 hex digits of its sha256>.pth`` and written atomically.

Example:
    python tools/model_converters/publish_model.py \\
        work_dirs/inception_v3/epoch_100.pth inception_v3_in1k.pth
    # -> inception_v3_in1k-1a2b3c4d.pth
"""
import argparse
import sys

from mmpre_inception.apis.cli import command_line, tool_parser


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    parser.add_argument('in_file', help='checkpoint saved by the Runner')
    parser.add_argument('out_file', help='output path (sha256 prefix added)')
    parser.add_argument(
        '--trust-pickle', action='store_true',
        help='read IN_FILE with unrestricted unpickling, which runs any code '
        'it carries; only for files you trust. The output holds tensors '
        'and plain values only and loads safely')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line() as outcome:
        from mmpre_inception.apis.conversion import publish
        path = publish(args.in_file, args.out_file, args.trust_pickle)
        print(f'Published {path}')
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
