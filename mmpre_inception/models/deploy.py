"""Inference-only forms of the model: BatchNorm folded into the
convolutions, and normalisation inside the graph for export."""
from typing import Sequence

import torch
from torch import nn


@torch.no_grad()
def fold_batchnorm(model: nn.Module) -> int:
    """Fold every BatchNorm that directly follows a convolution into it,
    in place: ``conv -> bn`` becomes one convolution with a bias, and the
    BatchNorm an ``nn.Identity``. Only for inference: the folded model
    uses the running statistics, whatever its mode.

    Args:
        model (nn.Module): A model whose ``conv``/``bn`` pairs are siblings
            named ``conv`` and ``bn`` (``BasicConv2d``, timm's
            ``ConvNormAct``).

    Returns:
        int: How many BatchNorms were folded.

    Example:
        >>> from mmpre_inception.models import InceptionV3
        >>> backbone = InceptionV3().eval()
        >>> fold_batchnorm(backbone)
        94
    """
    folded = 0
    for module in model.modules():
        conv, norm = getattr(module, 'conv', None), getattr(module, 'bn',
                                                            None)
        if not (isinstance(conv, nn.Conv2d)
                and isinstance(norm, nn.modules.batchnorm._BatchNorm)):
            continue
        scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
        fused = nn.Conv2d(conv.in_channels, conv.out_channels,
                          conv.kernel_size, conv.stride, conv.padding,
                          conv.dilation, conv.groups, bias=True).to(
                              conv.weight.device, conv.weight.dtype)
        fused.weight.copy_(conv.weight * scale[:, None, None, None])
        bias = conv.bias if conv.bias is not None else torch.zeros_like(
            norm.running_mean)
        fused.bias.copy_((bias - norm.running_mean) * scale + norm.bias)
        if conv.weight.is_contiguous(memory_format=torch.channels_last):
            fused.to(memory_format=torch.channels_last)
        module.conv, module.bn = fused, nn.Identity()
        folded += 1
    return folded


class NormalizedClassifier(nn.Module):
    """``(image - mean) / std`` followed by the classifier's logits, so an
    exported graph takes RGB images in 0..255 (resized and cropped as the
    config's test pipeline does) and needs no other preprocessing.

    Args:
        classifier (nn.Module): An ``InceptionClassifier``.
        mean (Sequence[float]): Per-channel mean, RGB, 0..255 scale.
        std (Sequence[float]): Per-channel std, RGB, 0..255 scale.
    """

    def __init__(self, classifier: nn.Module, mean: Sequence[float],
                 std: Sequence[float]) -> None:
        super().__init__()
        self.classifier = classifier
        self.register_buffer('mean', torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer('std', torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier((images - self.mean) / self.std,
                               mode='tensor')
