"""Convert timm's Inception V3 weights for mmpre_inception.

Evaluate the result with the config of its tag, which carries timm's
normalisation and resize for it (configs/timm/):

    tv, tf, tf_adv -> configs/timm/inception_v3_timm_tf_norm_in1k.py
    gluon          -> configs/timm/inception_v3_timm_gluon_in1k.py

Example:
    python tools/model_converters/timm2mmpre_inception.py \
        inception_v3.tf_in1k.pth inception_v3_timm-tf_in1k.pth --variant tf
"""
import argparse
import sys

from mmpre_inception.utils import silence_known_warnings

silence_known_warnings()  # before mmcv and mmpretrain warn on import

from mmpre_inception.checkpoint import (  # noqa: E402
    CheckpointError, read_weights, save_checkpoint_atomically)
from mmpre_inception.models.conversion import (  # noqa: E402
    check_source_layout, convert_timm)

CONFIGS = {
    'tv': 'configs/timm/inception_v3_timm_tf_norm_in1k.py',
    'tf': 'configs/timm/inception_v3_timm_tf_norm_in1k.py',
    'tf_adv': 'configs/timm/inception_v3_timm_tf_norm_in1k.py',
    'gluon': 'configs/timm/inception_v3_timm_gluon_in1k.py',
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src',
                        help='timm state dict (.safetensors, .pth or .bin)')
    parser.add_argument('dst', help='output checkpoint')
    parser.add_argument('--variant', required=True, choices=list(CONFIGS),
                        help='timm tag: inception_v3.<variant>_in1k')
    args = parser.parse_args(argv)
    try:
        weights = read_weights(args.src)
        check_source_layout(weights, args.src, 'timm')
    except CheckpointError as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    converted = convert_timm(weights)
    save_checkpoint_atomically(
        converted, args.dst,
        meta=dict(source=f'timm inception_v3.{args.variant}_in1k',
                  source_file=args.src, config=CONFIGS[args.variant]))
    print(f'Converted {args.src} -> {args.dst}; evaluate with '
          f'{CONFIGS[args.variant]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
