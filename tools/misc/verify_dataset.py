"""Open every image a config's data set lists, as training and testing
decode them, and list the ones that fail with their reason.

The annotation file is checked first (missing images, labels, encoding;
the same checks as tools/train.py), then every image is decoded with the
loader's limits. Exit status 0 when all open, 1 when some do not (listed
on stdout and in ``--out``), 2 for a bad config or annotation file.

mmpretrain's command line works as is (``--phase``, ``--out-path``).

Example:
    python tools/misc/verify_dataset.py configs/inception_v3_8xb32_in1k.py \\
        --phase val --out-path broken.txt \\
        --cfg-options val_dataloader.dataset.data_root=data/imagenet
"""
import argparse
import sys
from typing import List, Tuple

from mmpre_inception.apis.cli import (add_cfg_options, command_line,
                                      positive_int, tool_parser)


def list_unreadable_images(cfg, loader: str) -> Tuple[int, List[str]]:
    """Decode every image ``cfg``'s ``loader`` data set lists, with the
    loader's limits.

    Returns:
        tuple[int, list[str]]: How many images are listed, and one
        ``cannot read image PATH: reason`` line per image that fails.
    """
    from mmengine.registry import DefaultScope

    from mmpre_inception.apis import read_image
    from mmpre_inception.errors import UnreadableImageError
    from mmpre_inception.registry import DATASETS
    dataset_cfg = dict(cfg[loader].dataset, pipeline=[])
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope') or 'mmpre_inception'):
        dataset = DATASETS.build(dataset_cfg)
    broken = []
    for index in range(len(dataset)):
        try:
            read_image(dataset.get_data_info(index)['img_path'])
        except UnreadableImageError as error:
            broken.append(str(error))
    return len(dataset), broken


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    parser.add_argument('config', help='config file')
    parser.add_argument('--split', '--phase', dest='split',
                        choices=['train', 'val', 'test'], default='train',
                        help='whose data set: <split>_dataloader.dataset '
                        "(--phase: mmpretrain's name)")
    parser.add_argument('--out', '--out-path', dest='out',
                        help='also write the broken files here, one "cannot '
                        'read image PATH: reason" per line')
    parser.add_argument('--num-process', type=positive_int, default=1,
                        help="accepted for mmpretrain's command line; the "
                        'images are read in this one process')
    add_cfg_options(parser)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line(register_modules=True) as outcome:
        from mmpre_inception.apis import (ConfigError,
                                          check_config_annotations,
                                          load_config)
        loader = f'{args.split}_dataloader'
        cfg = load_config(args.config, args.cfg_options)
        if not cfg.get(loader):
            raise ConfigError(f'{args.config} has no {loader}')
        # the listed images may be missing: each is reported below
        check_config_annotations(cfg, (loader, ), missing_images_ok=True)
        total, broken = list_unreadable_images(cfg, loader)
        for line in broken:
            print(line)
        if args.out:
            from mmpre_inception.apis import write_atomically
            write_atomically(''.join(line + '\n' for line in broken).encode(),
                             args.out)
        print(f'{total - len(broken)} of {total} images open; {len(broken)} '
              'do not' + (f' (listed in {args.out})' if args.out and broken
                          else ''))
        outcome.status = 1 if broken else 0
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
