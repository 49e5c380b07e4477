"""Map other libraries' Inception V3 weights onto our model, exactly.

torchvision's ``inception_v3`` and timm's ``inception_v3.*`` share one
module layout (``Conv2d_1a_3x3.conv.weight`` ... ``AuxLogits.*``, ``fc.*``)
with BatchNorm eps 1e-3, so the weights map one to one: the stem and the
Mixed blocks go under ``backbone.``, ``fc`` and ``AuxLogits`` under
``head.``. What differs between sources is the input convention, which the
converters keep exactly (see :func:`fold_input_affine`).
"""
from typing import Dict, Sequence

import numpy as np
import torch
from torch import nn

from mmpre_inception.checkpoint import (AUX_CLASSIFIER_PREFIXES,
                                        CheckpointError, check_state_dict_fits)
from .backbones.inception_v3 import BasicConv2d, InceptionV3
from .heads.inception_v3_head import InceptionV3Head

# ImageNet statistics of mmpretrain's (and our) data preprocessor, in RGB
# order and the 0..1 scale torchvision uses.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
STEM_CONV = 'backbone.Conv2d_1a_3x3.conv.weight'
STEM_BN = 'backbone.Conv2d_1a_3x3.bn.'
HEAD_MODULES = ('fc.', 'AuxLogits.')


def to_our_layout(state_dict: Dict[str, torch.Tensor]) -> Dict[str,
                                                               torch.Tensor]:
    """Prefix torchvision/timm keys for our model: ``fc.*`` and
    ``AuxLogits.*`` go to ``head.``, everything else to ``backbone.``.

    Args:
        state_dict (dict): A torchvision or timm Inception V3 state dict
            (a DataParallel ``module.`` prefix is removed).

    Returns:
        dict: The same tensors under our keys.

    Example:
        >>> import torch
        >>> sorted(to_our_layout({'fc.bias': torch.zeros(1),
        ...                       'Mixed_5b.branch1x1.conv.weight':
        ...                       torch.zeros(1)}))
        ['backbone.Mixed_5b.branch1x1.conv.weight', 'head.fc.bias']
    """
    converted = {}
    for key, value in state_dict.items():
        if key.startswith('module.'):
            key = key[len('module.'):]
        prefix = 'head.' if key.startswith(HEAD_MODULES) else 'backbone.'
        converted[prefix + key] = value
    return converted


def check_source_layout(state_dict: Dict[str, torch.Tensor], path: str,
                        source: str) -> None:
    """Raise unless ``state_dict`` is an Inception V3 in torchvision's and
    timm's layout (the auxiliary classifier may be missing).

    Args:
        state_dict (dict): The source weights.
        path (str): Their file, for the message.
        source (str): The library, for the message (``'torchvision'``).

    Raises:
        CheckpointError: Already converted, or another network, with the
            keys at fault.
    """
    if any(key.startswith(('backbone.', 'head.')) for key in state_dict):
        raise CheckpointError(
            f'{path} is already in mmpre_inception\'s layout (backbone.*, '
            'head.*): use it as it is, without converting')
    fc = state_dict.get('fc.weight')
    model = nn.Module()
    model.backbone = InceptionV3()
    model.head = InceptionV3Head(
        num_classes=fc.shape[0] if fc is not None else 1000)
    try:
        check_state_dict_fits(model.state_dict(), to_our_layout(state_dict),
                              path, AUX_CLASSIFIER_PREFIXES)
    except CheckpointError as error:
        raise CheckpointError(
            f'{path} is not an Inception V3 state dict in {source}\'s '
            f'layout: {str(error).split(": ", 1)[1]}') from None


def fold_input_affine(state_dict: Dict[str, torch.Tensor],
                      scale: Sequence[float],
                      shift: Sequence[float]) -> Dict[str, torch.Tensor]:
    """Make a network that expects ``x * scale + shift`` (per RGB channel)
    take ``x`` instead, exactly.

    The stem convolution has no padding, so every output sees whole
    kernels: ``conv(W, a*x + b) = conv(W*a, x) + sum(W*b)``. The scale goes
    into the weights and the constant into the BatchNorm's running mean
    that follows (which subtracts it at inference).

    Args:
        state_dict (dict): Weights in our layout.
        scale (Sequence[float]): Per-channel factor ``a`` (3 values, RGB).
        shift (Sequence[float]): Per-channel offset ``b``.

    Returns:
        dict: A copy with the stem convolution and BatchNorm changed.
    """
    folded = dict(state_dict)
    weight = state_dict[STEM_CONV].double()
    scale = torch.tensor(scale, dtype=torch.float64)
    shift = torch.tensor(shift, dtype=torch.float64)
    constant = (weight * shift[None, :, None, None]).sum(dim=(1, 2, 3))
    folded[STEM_CONV] = (weight * scale[None, :, None, None]).to(
        state_dict[STEM_CONV].dtype)
    mean_key = STEM_BN + 'running_mean'
    folded[mean_key] = (state_dict[mean_key].double() - constant).to(
        state_dict[mean_key].dtype)
    return folded


def convert_torchvision(state_dict: Dict[str, torch.Tensor],
                        transform_input: bool = True
                        ) -> Dict[str, torch.Tensor]:
    """torchvision ``inception_v3`` weights for our model and our ImageNet
    preprocessing.

    torchvision's ImageNet weights (``inception_v3_google``) were trained
    on TensorFlow-style inputs: with ``transform_input=True`` the model maps
    its ImageNet-normalised input ``x`` to ``x * std / 0.5 + (mean - 0.5) /
    0.5`` first. That affine map is folded into the stem here, so the
    converted model gives torchvision's logits on the same normalised input.

    Args:
        state_dict (dict): torchvision state dict.
        transform_input (bool): Whether the source model used
            ``transform_input=True`` (torchvision's pretrained weights do).

    Returns:
        dict: Weights in our layout.
    """
    converted = to_our_layout(state_dict)
    if transform_input:
        scale = [s / 0.5 for s in IMAGENET_STD]
        shift = [(m - 0.5) / 0.5 for m in IMAGENET_MEAN]
        converted = fold_input_affine(converted, scale, shift)
    return converted


def convert_timm(state_dict: Dict[str, torch.Tensor]) -> Dict[str,
                                                              torch.Tensor]:
    """timm ``inception_v3.*`` weights for our model. timm's networks take
    their inputs as they are; each tag's normalisation and resize live in
    its config (``configs/timm/``).

    Args:
        state_dict (dict): timm state dict (any tag).

    Returns:
        dict: Weights in our layout.
    """
    return to_our_layout(state_dict)


def _creation_order(layer) -> int:
    # Keras names layers conv2d, conv2d_1, ... in creation order, which is
    # torchvision's module order; model.layers is sorted otherwise.
    suffix = layer.name.rsplit('_', 1)[-1]
    return int(suffix) if suffix.isdigit() else 0


def convert_keras(keras_model, drop_background: bool = None
                  ) -> Dict[str, torch.Tensor]:
    """Keras ``InceptionV3`` weights (``keras.applications``) for our
    model, to be used with ``configs/tensorflow/inception_v3_keras_in1k.py``.

    What differs from PyTorch's Inception V3, and how it is kept exact:

    * kernels are HWIO (transposed to OIHW), the classifier is
      ``predictions`` (transposed);
    * BatchNorm has no scale (``scale=False``): the weight is 1; epsilon is
      1e-3 as ours;
    * TensorFlow's "same" average pooling ignores the padded border: the
      config sets ``pool_count_include_pad=False`` on our backbone;
    * inputs are RGB scaled to [-1, 1]: the config's preprocessor uses
      mean = std = 127.5;
    * a 1001-class classifier (TF-slim's, with "background" at index 0)
      loses that row, so labels are ImageNet's 0..999.

    Args:
        keras_model: A built ``keras.applications.InceptionV3`` with weights
            loaded and ``include_top=True``.
        drop_background (bool, optional): Drop the first class. Defaults to
            True exactly when the classifier has 1001 outputs.

    Returns:
        dict: Weights in our layout (no auxiliary classifier: Keras has
        none).
    """
    def array(variable) -> np.ndarray:
        return np.asarray(variable.numpy() if hasattr(variable, 'numpy')
                          else variable)

    layers = keras_model.layers
    convs = sorted((layer for layer in layers
                    if type(layer).__name__ == 'Conv2D'),
                   key=_creation_order)
    norms = sorted((layer for layer in layers
                    if type(layer).__name__ == 'BatchNormalization'),
                   key=_creation_order)
    (dense, ) = [layer for layer in layers if type(layer).__name__ == 'Dense']
    names = [name for name, module in InceptionV3().named_modules()
             if isinstance(module, BasicConv2d)]
    if not len(names) == len(convs) == len(norms):
        raise ValueError(
            f'expected {len(names)} convolutions and BatchNorms in the '
            f'Keras model, found {len(convs)} and {len(norms)}: is it '
            'keras.applications.InceptionV3?')
    state = {}
    for name, conv, norm in zip(names, convs, norms):
        prefix = f'backbone.{name}.'
        kernel = torch.from_numpy(array(conv.kernel)).permute(3, 2, 0, 1)
        state[prefix + 'conv.weight'] = kernel.contiguous()
        channels = kernel.shape[0]
        gamma = array(norm.gamma) if norm.gamma is not None else \
            np.ones(channels, np.float32)
        state[prefix + 'bn.weight'] = torch.from_numpy(gamma)
        state[prefix + 'bn.bias'] = torch.from_numpy(array(norm.beta))
        state[prefix + 'bn.running_mean'] = torch.from_numpy(
            array(norm.moving_mean))
        state[prefix + 'bn.running_var'] = torch.from_numpy(
            array(norm.moving_variance))
        state[prefix + 'bn.num_batches_tracked'] = torch.tensor(0)
    weight = torch.from_numpy(array(dense.kernel)).t().contiguous()
    bias = torch.from_numpy(array(dense.bias))
    if drop_background is None:
        drop_background = weight.shape[0] == 1001
    if drop_background:
        weight, bias = weight[1:], bias[1:]
    state['head.fc.weight'] = weight
    state['head.fc.bias'] = bias
    return {key: value.float() if value.is_floating_point() else value
            for key, value in state.items()}
