"""Convert torchvision's Inception V3 weights for mmpre_inception.

The result evaluates with configs/inception_v3_8xb32_in1k.py (ImageNet
mean/std): torchvision's ``transform_input`` step is folded into the stem.

Example:
    python tools/model_converters/torchvision2mmpre_inception.py \
        inception_v3_google-0cc3c7bd.pth inception_v3_tv_in1k.pth
"""
import argparse
import sys

from mmpre_inception.utils import silence_known_warnings

silence_known_warnings()  # before mmcv and mmpretrain warn on import

from mmpre_inception.checkpoint import (  # noqa: E402
    CheckpointError, read_weights, save_checkpoint_atomically)
from mmpre_inception.models.conversion import (  # noqa: E402
    check_source_layout, convert_torchvision)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='torchvision state dict (.pth)')
    parser.add_argument('dst', help='output checkpoint')
    parser.add_argument(
        '--no-transform-input',
        action='store_true',
        help='the source model was built with transform_input=False (not '
        "torchvision's pretrained weights)")
    args = parser.parse_args(argv)
    try:
        weights = read_weights(args.src)
        check_source_layout(weights, args.src, 'torchvision')
    except CheckpointError as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    converted = convert_torchvision(
        weights, transform_input=not args.no_transform_input)
    save_checkpoint_atomically(
        converted, args.dst,
        meta=dict(source='torchvision', source_file=args.src,
                  transform_input=not args.no_transform_input))
    print(f'Converted {args.src} -> {args.dst} ({len(converted)} tensors)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
