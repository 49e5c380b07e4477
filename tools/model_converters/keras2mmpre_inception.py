"""Convert TensorFlow's Inception V3 (Keras weights) for mmpre_inception.

Reads Keras weights (``keras.applications.InceptionV3``: the official
``inception_v3_weights_tf_dim_ordering_tf_kernels.h5``, or a
``.weights.h5`` saved by Keras 3); needs TensorFlow/Keras
(requirements/optional.txt). Evaluate the result with
configs/tensorflow/inception_v3_keras_in1k.py.

Example:
    python tools/model_converters/keras2mmpre_inception.py \
        inception_v3_weights_tf_dim_ordering_tf_kernels.h5 \
        inception_v3_keras_in1k.pth
"""
import argparse
import os
import os.path as osp
import sys

from mmpre_inception.utils import silence_known_warnings

silence_known_warnings()  # before mmcv and mmpretrain warn on import

# torch before TensorFlow: the other order can crash at import.
import torch  # noqa: E402,F401

from mmpre_inception.checkpoint import save_checkpoint_atomically  # noqa: E402
from mmpre_inception.models.conversion import convert_keras  # noqa: E402

CONFIG = 'configs/tensorflow/inception_v3_keras_in1k.py'


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='Keras weights (.h5 / .weights.h5)')
    parser.add_argument('dst', help='output checkpoint')
    parser.add_argument(
        '--classes', type=int, default=1000,
        help='classifier size in the file: 1000, or 1001 with TF-slim\'s '
        'background class (dropped in the output)')
    args = parser.parse_args(argv)
    if not osp.isfile(args.src):
        print(f'error: weights file not found: {args.src}', file=sys.stderr)
        return 2
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
    try:
        import keras
    except ImportError:
        print('error: the Keras converter needs TensorFlow: pip install -r '
              'requirements/optional.txt', file=sys.stderr)
        return 2
    model = keras.applications.InceptionV3(
        weights=None, classes=args.classes, classifier_activation=None)
    try:
        model.load_weights(args.src)
    except (ValueError, OSError) as error:
        print(f'error: cannot load {args.src} into keras.applications.'
              f'InceptionV3(classes={args.classes}): {error}',
              file=sys.stderr)
        return 2
    converted = convert_keras(model)
    save_checkpoint_atomically(
        converted, args.dst,
        meta=dict(source='keras.applications.InceptionV3',
                  source_file=args.src, config=CONFIG))
    print(f'Converted {args.src} -> {args.dst}; evaluate with {CONFIG}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
