"""Open every image a config's data set lists, as training and testing
decode them, and list the ones that fail with their reason.

The annotation file is checked first (missing images, labels, encoding;
the same checks as tools/train.py), then every image is decoded with the
loader's limits. Exit status 0 when all open, 1 when some do not (listed
on stdout and in ``--out``), 2 for a bad config or annotation file.

Example:
    python tools/misc/verify_dataset.py configs/inception_v3_8xb32_in1k.py \\
        --split val --out broken.txt \\
        --cfg-options val_dataloader.dataset.data_root=data/imagenet
"""
import argparse
import sys

from mmengine.config import DictAction


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('--split', choices=['train', 'val', 'test'],
                        default='train',
                        help='whose data set: <split>_dataloader.dataset')
    parser.add_argument('--out', help='also write the broken files here, '
                        'one "cannot read image PATH: reason" per line')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries, e.g. '
        'train_dataloader.dataset.data_root=DIR')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmengine.registry import DefaultScope

    from mmpre_inception import register_all_modules
    from mmpre_inception.datasets import (AnnotationError,
                                          UnreadableImageError,
                                          check_config_annotations,
                                          read_image)
    from mmpre_inception.registry import DATASETS
    from mmpre_inception.utils import ConfigError, load_config
    loader = f'{args.split}_dataloader'
    try:
        cfg = load_config(args.config, args.cfg_options)
        if not cfg.get(loader):
            raise ConfigError(f'{args.config} has no {loader}')
        # the listed images may be missing: each is reported below
        check_config_annotations(cfg, (loader, ), missing_images_ok=True)
    except (ConfigError, AnnotationError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    register_all_modules()
    dataset_cfg = dict(cfg[loader].dataset, pipeline=[])
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        dataset = DATASETS.build(dataset_cfg)
    broken = []
    for index in range(len(dataset)):
        path = dataset.get_data_info(index)['img_path']
        try:
            read_image(path)
        except UnreadableImageError as error:
            broken.append(str(error))  # 'cannot read image PATH: why'
    for line in broken:
        print(line)
    if args.out:
        with open(args.out, 'w') as f:
            f.writelines(line + '\n' for line in broken)
    print(f'{len(dataset) - len(broken)} of {len(dataset)} images open; '
          f'{len(broken)} do not' + (f' (listed in {args.out})'
                                     if args.out and broken else ''))
    return 1 if broken else 0


if __name__ == '__main__':
    sys.exit(main())
