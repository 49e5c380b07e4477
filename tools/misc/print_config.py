"""Print a config as the tools run it: its bases merged and the
``--cfg-options`` applied.

Example:
    python tools/misc/print_config.py configs/inception_v3_8xb32_in1k.py \\
        --cfg-options train_dataloader.batch_size=16
"""
import argparse
import sys

from mmengine.config import DictAction


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries, as tools/train.py takes them')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmpre_inception.utils import ConfigError, load_config
    try:
        cfg = load_config(args.config, args.cfg_options)
    except ConfigError as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    print(cfg.pretty_text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
