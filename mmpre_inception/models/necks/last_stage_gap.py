"""Global average pooling of the last stage only."""
from typing import Tuple

import torch
import torch.nn as nn

from mmpre_inception.registry import MODELS


@MODELS.register_module()
class LastStageGAP(nn.Module):
    """Global-average-pool the last feature map; pass earlier ones through.

    mmpretrain's ``GlobalAveragePooling`` pools every stage it is given,
    which would flatten the Mixed_6e map that the auxiliary classifier
    convolves. This neck pools only the last stage, so a backbone with
    ``out_indices=(2, 3)`` yields ``(mixed_6e_map, pooled_features)``.

    Example:
        >>> import torch
        >>> neck = LastStageGAP()
        >>> aux_map, pooled = neck((torch.rand(2, 768, 17, 17),
        ...                         torch.rand(2, 2048, 8, 8)))
        >>> tuple(aux_map.shape), tuple(pooled.shape)
        ((2, 768, 17, 17), (2, 2048))
    """

    def forward(self, inputs: Tuple[torch.Tensor, ...]
                ) -> Tuple[torch.Tensor, ...]:
        if isinstance(inputs, torch.Tensor):
            inputs = (inputs, )
        *passthrough, last = inputs
        return (*passthrough, last.mean(dim=(2, 3)))
