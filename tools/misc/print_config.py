"""Print a config as the tools run it: its bases merged and the
``--cfg-options`` applied.

Example:
    python tools/misc/print_config.py configs/inception_v3_8xb32_in1k.py \\
        --cfg-options train_dataloader.batch_size=16
"""
import argparse
import sys

from mmpre_inception.apis.cli import add_cfg_options, command_line, tool_parser


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    parser.add_argument('config', help='config file')
    add_cfg_options(parser)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line() as outcome:
        from mmpre_inception.apis import load_config
        print(load_config(args.config, args.cfg_options).pretty_text)
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
