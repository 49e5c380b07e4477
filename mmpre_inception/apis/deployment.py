"""Exporting a classifier for deployment (ONNX)."""
import warnings

import torch
from mmcv.cnn import fuse_conv_bn

from mmpre_inception.engine.private_apis import onnx_opsets
from mmpre_inception.models.deploy import NormalizedClassifier
from mmpre_inception.utils import ConfigError

from .inference import init_model


def build_export_module(config: str, checkpoint: str,
                        fold_bn: bool = True) -> torch.nn.Module:
    """The config's model with the checkpoint's weights, wrapped with its
    normalisation, in eval mode.

    Raises:
        ConfigError: The config's data preprocessor does not take RGB.
        CheckpointError: As
            :func:`~mmpre_inception.checkpoint.read_checkpoint`.
    """
    model = init_model(config, checkpoint)
    if fold_bn:
        with torch.no_grad():
            fuse_conv_bn(model)
    preprocessor = model.cfg.data_preprocessor
    if not preprocessor.get('to_rgb', False):
        # The graph takes RGB; such a config's statistics are in BGR order.
        raise ConfigError(f'{config}: pytorch2onnx expects '
                          'data_preprocessor.to_rgb=True')
    return NormalizedClassifier(model, list(preprocessor['mean']),
                                list(preprocessor['std'])).eval()


def export_onnx(config: str, checkpoint: str, output_file: str,
                shape: int = 299, opset: int = 17,
                fold_bn: bool = True) -> None:
    """Write the ONNX graph of :func:`build_export_module`: input ``image``
    (N x 3 x shape x shape, RGB 0..255, dynamic N), output ``logits``.

    Example:
        >>> export_onnx('configs/inception_v3_8xb32_in1k.py', 'x.pth',
        ...             'x.onnx')  # doctest: +SKIP
    """
    opsets = onnx_opsets()
    if opset not in opsets:
        raise ConfigError(f'--opset {opset}: torch {torch.__version__} '
                          f'exports opsets {opsets[0]} to {opsets[-1]}')
    module = build_export_module(config, checkpoint, fold_bn)
    example = torch.rand(1, 3, shape, shape) * 255
    with warnings.catch_warnings():
        # The backbone's input-size check is traced as a constant; harmless.
        warnings.filterwarnings('ignore', category=torch.jit.TracerWarning)
        torch.onnx.export(
            module, (example, ), output_file,
            input_names=['image'], output_names=['logits'],
            dynamic_axes={'image': {0: 'batch'}, 'logits': {0: 'batch'}},
            opset_version=opset, dynamo=False)
