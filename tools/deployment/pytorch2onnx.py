"""Export a classifier to ONNX, with a dynamic batch axis.

The graph takes ``image``: float32 RGB in 0..255, N x 3 x H x W, already
resized and cropped as the config's test pipeline does (299 x 299 for the
ImageNet configs); normalisation is inside. It returns ``logits``. BatchNorm
is folded into the convolutions first unless --no-fold-bn.

Example:
    python tools/deployment/pytorch2onnx.py \
        configs/inception_v3_8xb32_in1k.py inception_v3_tv_in1k.pth \
        --output-file inception_v3.onnx
"""
import argparse
import sys
import warnings

from mmpre_inception.utils import silence_known_warnings

silence_known_warnings()  # before mmcv and mmpretrain warn on import

import torch  # noqa: E402
from mmcv.cnn import fuse_conv_bn  # noqa: E402

from mmpre_inception.apis import init_model  # noqa: E402
from mmpre_inception.checkpoint import CheckpointError  # noqa: E402
from mmpre_inception.models.deploy import NormalizedClassifier  # noqa: E402


def build_export_module(config: str, checkpoint: str,
                        fold_bn: bool = True) -> torch.nn.Module:
    """The config's model with the checkpoint's weights, wrapped with its
    normalisation, in eval mode."""
    model = init_model(config, checkpoint)
    if fold_bn:
        with torch.no_grad():
            fuse_conv_bn(model)
    preprocessor = model.cfg.data_preprocessor
    if not preprocessor.get('to_rgb', False):
        # The graph takes RGB; such a config's statistics are in BGR order.
        raise ValueError('pytorch2onnx expects a config with to_rgb=True')
    return NormalizedClassifier(model, list(preprocessor['mean']),
                                list(preprocessor['std'])).eval()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--output-file', default='inception_v3.onnx')
    parser.add_argument('--shape', type=int, default=299,
                        help='input height and width')
    parser.add_argument('--opset', type=int, default=17)
    parser.add_argument('--no-fold-bn', action='store_true')
    args = parser.parse_args(argv)
    try:
        module = build_export_module(args.config, args.checkpoint,
                                     not args.no_fold_bn)
    except CheckpointError as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    example = torch.rand(1, 3, args.shape, args.shape) * 255
    # The backbone's input-size check is traced as a constant; harmless.
    warnings.filterwarnings('ignore', category=torch.jit.TracerWarning)
    torch.onnx.export(
        module, (example, ), args.output_file,
        input_names=['image'], output_names=['logits'],
        dynamic_axes={'image': {0: 'batch'}, 'logits': {0: 'batch'}},
        opset_version=args.opset, dynamo=False)
    print(f'Exported {args.output_file}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
