"""The model as exported: normalisation inside the graph. (BatchNorm is
folded into the convolutions with mmcv's ``fuse_conv_bn``.)"""
from typing import Sequence

import torch
from torch import nn


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
