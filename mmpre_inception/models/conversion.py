"""Map other libraries' Inception V3 weights onto our model, exactly.

torchvision's ``inception_v3`` and timm's ``inception_v3.*`` share one
module layout (``Conv2d_1a_3x3.conv.weight`` ... ``AuxLogits.*``, ``fc.*``)
with BatchNorm eps 1e-3, so the weights map one to one: the stem and the
Mixed blocks go under ``backbone.``, ``fc`` and ``AuxLogits`` under
``head.``. What differs between sources is the input convention, which the
converters keep exactly (see :func:`fold_input_affine`).
"""
from typing import Dict, Sequence

import torch

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


def read_weights(path: str) -> Dict[str, torch.Tensor]:
    """A state dict from ``path``: ``.safetensors`` (as the Hugging Face
    hub serves timm's weights), or a torch file read with our safe loader
    (plain, or wrapped in ``state_dict`` / ``model``).

    Raises:
        CheckpointError: The file is missing, truncated or unsafe.
    """
    from mmpre_inception.utils import (CheckpointError, load_checkpoint_file,
                                       state_dict_of)
    if path.endswith('.safetensors'):
        from safetensors.torch import load_file
        try:
            return load_file(path)
        except (OSError, RuntimeError) as error:
            raise CheckpointError(f'cannot read {path}: {error}') from None
    return state_dict_of(load_checkpoint_file(path))


def save_checkpoint_atomically(state_dict: Dict[str, torch.Tensor],
                               path: str, meta: dict) -> None:
    """Save ``{'state_dict': ..., 'meta': ...}`` as mmengine checkpoints
    are laid out, through a temporary file and a rename."""
    import io

    from mmpre_inception.engine import write_atomically
    buffer = io.BytesIO()
    torch.save({'state_dict': state_dict, 'meta': meta}, buffer)
    write_atomically(buffer.getvalue(), path)
