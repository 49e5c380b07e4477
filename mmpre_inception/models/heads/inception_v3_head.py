"""The Inception V3 classifier and its auxiliary classifier."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.models.heads import ClsHead
from mmpretrain.structures import DataSample

from mmpre_inception.models.backbones.inception_v3 import (
    DEFAULT_NORM_CFG, BasicConv2d)
from mmpre_inception.registry import MODELS

# Mixed_6e side that the paper's 5x5/3 pooling turns into the 5x5 map the
# auxiliary 5x5 convolution needs (299 px input).
_AUX_NATIVE_SIZE = 17


class InceptionAux(BaseModule):
    """Auxiliary classifier on the Mixed_6e features.

    Average pool 5x5 stride 3, 1x1 conv to 128 channels, 5x5 conv to 768,
    global average pool, fc. Module names match torchvision's ``AuxLogits``.

    Args:
        in_channels (int): Channels of the Mixed_6e map (768).
        num_classes (int): Number of classes.
        norm_cfg (dict): Normalisation config of its two convolutions.
            Defaults to the backbone's ``DEFAULT_NORM_CFG``.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to small truncated-normal weights (std 0.01 for convs,
            0.001 for the fc), so the branch starts close to uniform.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 norm_cfg: dict = DEFAULT_NORM_CFG,
                 init_cfg: Optional[Union[dict, List[dict]]] = (
                     dict(type='TruncNormal', layer='Conv2d', std=0.01),
                     dict(type='TruncNormal', layer='Linear', std=0.001),
                 )) -> None:
        super().__init__(
            init_cfg=list(init_cfg)
            if isinstance(init_cfg, tuple) else init_cfg)
        self.conv0 = BasicConv2d(in_channels, 128, 1, norm_cfg=norm_cfg)
        self.conv1 = BasicConv2d(128, 768, 5, norm_cfg=norm_cfg)
        self.fc = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if min(x.shape[-2:]) >= _AUX_NATIVE_SIZE:
            x = F.avg_pool2d(x, kernel_size=5, stride=3)
        else:
            # Inputs below ~299 px leave too small a map for the 5x5 conv;
            # pooling to 5x5 keeps the branch usable (e.g. low-res training).
            x = F.adaptive_avg_pool2d(x, 5)
        x = self.conv1(self.conv0(x))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


@MODELS.register_module()
class InceptionV3Head(ClsHead):
    """Inception V3 classifier: dropout then fc, plus the auxiliary
    classifier whose weighted loss is added during training.

    The auxiliary classifier runs only in :meth:`loss`; prediction uses the
    main classifier alone, so it costs nothing at inference.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Channels of the pooled last-stage feature.
            Defaults to 2048.
        dropout (float): Dropout probability before the fc. Defaults to 0.5.
        aux_logits (bool): Build the auxiliary classifier and add its loss.
            It reads the second-to-last feature of the neck output, which
            must be the Mixed_6e map (backbone ``out_indices=(2, 3)``).
            Defaults to True.
        aux_in_channels (int): Channels of the Mixed_6e map. Defaults to 768.
        aux_loss_weight (float): Weight of the auxiliary loss. Defaults to
            0.4, as in the paper.
        aux_norm_cfg (dict): Normalisation config of the auxiliary
            classifier's convolutions; give it the backbone's
            ``norm_cfg``. Defaults to ``DEFAULT_NORM_CFG``.
        loss (dict): Classification loss config, used by both classifiers.
            Defaults to cross-entropy.
        topk (int | tuple[int]): Top-k for training accuracy. Defaults to
            ``(1, 5)``.
        cal_acc (bool): Log training accuracy. Defaults to False.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to truncated normal with std 0.1 for the fc, as
            torchvision does; the auxiliary classifier has its own.

    Example:
        >>> import torch
        >>> from mmpre_inception.models import InceptionV3Head
        >>> head = InceptionV3Head(num_classes=10).eval()
        >>> feats = (torch.rand(2, 768, 17, 17), torch.rand(2, 2048))
        >>> head(feats).shape
        torch.Size([2, 10])
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int = 2048,
                 dropout: float = 0.5,
                 aux_logits: bool = True,
                 aux_in_channels: int = 768,
                 aux_loss_weight: float = 0.4,
                 aux_norm_cfg: dict = DEFAULT_NORM_CFG,
                 loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
                 topk: Union[int, Tuple[int]] = (1, 5),
                 cal_acc: bool = False,
                 init_cfg: Optional[dict] = dict(
                     type='TruncNormal', layer='Linear', std=0.1)
                 ) -> None:
        super().__init__(
            loss=loss, topk=topk, cal_acc=cal_acc, init_cfg=init_cfg)
        if num_classes <= 0:
            raise ValueError(
                f'InceptionV3Head: num_classes must be positive, got '
                f'{num_classes}.')
        self.num_classes = num_classes
        self.aux_loss_weight = aux_loss_weight
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(in_channels, num_classes)
        self.AuxLogits = (
            InceptionAux(aux_in_channels, num_classes, norm_cfg=aux_norm_cfg)
            if aux_logits else None)

    def pre_logits(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """Return the pooled last-stage feature of shape (N, in_channels)."""
        pooled = feats[-1]
        if pooled.dim() != 2:
            raise ValueError(
                'InceptionV3Head expects the last feature pooled to shape '
                f'(N, C); got {tuple(pooled.shape)}. Use the LastStageGAP '
                'neck (or GlobalAveragePooling when aux_logits=False).')
        if pooled.shape[1] != self.fc.in_features:
            raise ValueError(
                f'InceptionV3Head needs the pooled last stage with '
                f'{self.fc.in_features} channels (Mixed_7c); the last '
                f'feature has {pooled.shape[1]}. End model.backbone.'
                'out_indices with stage 3, e.g. (2, 3), or set '
                'model.head.in_channels.')
        return pooled

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """Return the main classifier's logits, shape (N, num_classes)."""
        return self.fc(self.dropout(self.pre_logits(feats)))

    def forward_aux(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """Return the auxiliary classifier's logits from the Mixed_6e map."""
        if self.AuxLogits is None:
            raise RuntimeError('InceptionV3Head was built with '
                               'aux_logits=False.')
        if len(feats) < 2 or feats[-2].dim() != 4:
            raise ValueError(
                'InceptionV3Head with aux_logits=True needs the Mixed_6e '
                'map as the second-to-last feature: set the backbone to '
                'out_indices=(2, 3) and use the LastStageGAP neck.')
        return self.AuxLogits(feats[-2])

    def loss(self, feats: Sequence[torch.Tensor],
             data_samples: List[DataSample], **kwargs) -> dict:
        """Compute the classification loss and, with ``aux_logits``, the
        weighted auxiliary loss.

        Returns:
            dict[str, torch.Tensor]: ``loss_cls``, ``loss_aux`` (already
            multiplied by ``aux_loss_weight``) and, with ``cal_acc``,
            ``accuracy_top-k``. mmengine sums the ``loss*`` entries.
        """
        losses = self._get_loss(self(feats), data_samples, **kwargs)
        losses['loss_cls'] = losses.pop('loss')
        if self.AuxLogits is not None:
            aux_score = self.forward_aux(feats)
            target = self._targets(data_samples)
            losses['loss_aux'] = self.aux_loss_weight * self.loss_module(
                aux_score, target, avg_factor=aux_score.size(0), **kwargs)
        return losses

    @staticmethod
    def _targets(data_samples: List[DataSample]) -> torch.Tensor:
        if 'gt_score' in data_samples[0]:
            return torch.stack([sample.gt_score for sample in data_samples])
        return torch.cat([sample.gt_label for sample in data_samples])
