"""Inception V3 backbone: the stem and the Mixed_5b ... Mixed_7c blocks.

Module names follow torchvision's ``inception_v3`` (``Conv2d_1a_3x3``,
``Mixed_6e.branch7x7_1.conv``, ...), so torchvision, timm and mmpretrain
weights map onto this model one to one. The classifier and the auxiliary
classifier live in :class:`~mmpre_inception.models.heads.InceptionV3Head`.

Reference: Szegedy et al., "Rethinking the Inception Architecture for
Computer Vision", CVPR 2016, https://arxiv.org/abs/1512.00567
"""
from functools import partial
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm

from mmpre_inception.checkpoint import (CheckpointError, check_state_dict_fits,
                                        read_weights)
from mmpre_inception.registry import MODELS

# Smallest input side for which every stage still has a non-empty output.
MIN_INPUT_SIZE = 75

# BatchNorm with the TF original's epsilon; PyTorch's momentum 0.1.
DEFAULT_NORM_CFG = dict(type='BN', eps=0.001)


def build_norm(norm_cfg: dict, num_features: int) -> nn.Module:
    """Build the normalisation layer of ``norm_cfg`` with mmcv's registry.

    Args:
        norm_cfg (dict): mmcv norm config, e.g. ``dict(type='BN',
            eps=0.001, momentum=0.004)``; ``'SyncBN'`` for statistics
            synchronised across GPUs.
        num_features (int): Channels to normalise.

    Returns:
        nn.Module: The layer.

    Raises:
        ValueError: ``momentum`` is outside (0, 1], which TensorFlow users
            hit by giving its ``decay`` (0.996) instead of ``1 - decay``.
    """
    momentum = norm_cfg.get('momentum', 0.1)
    if momentum is not None and not 0 < momentum <= 1:
        raise ValueError(
            f'norm_cfg momentum={momentum}: use a momentum in (0, 1], '
            '1 - TensorFlow decay (0.004 for a decay of 0.996)')
    return build_norm_layer(norm_cfg, num_features)[1]


class BasicConv2d(nn.Module):
    """Convolution without bias, normalisation and ReLU.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int | tuple[int, int]): Convolution kernel size.
        stride (int): Convolution stride. Defaults to 1.
        padding (int | tuple[int, int]): Zero padding. Defaults to 0.
        norm_cfg (dict): Normalisation config (mmcv). Defaults to BatchNorm
            with eps 0.001, as in the TF original.

    Example:
        >>> import torch
        >>> conv = BasicConv2d(3, 8, 3, norm_cfg=dict(
        ...     type='BN', eps=1e-3, momentum=0.004))
        >>> conv(torch.rand(1, 3, 9, 9)).shape
        torch.Size([1, 8, 7, 7])
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: Union[int, Tuple[int, int]],
                 stride: int = 1,
                 padding: Union[int, Tuple[int, int]] = 0,
                 norm_cfg: dict = DEFAULT_NORM_CFG) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            bias=False)
        self.bn = build_norm(norm_cfg, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        x = self.bn(x)
        return F.relu(x, inplace=True)


def average_pool_3x3(x: torch.Tensor,
                     count_include_pad: bool) -> torch.Tensor:
    """The pooling branches' 3x3 average pool of stride 1, size-preserving.

    Args:
        x (torch.Tensor): A Mixed block's input.
        count_include_pad (bool): Count the zero padding at borders
            (PyTorch's models) or not (TensorFlow's "same" pooling).

    Returns:
        torch.Tensor: The pooled map, the shape of ``x``.
    """
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1,
                        count_include_pad=count_include_pad)


class InceptionA(nn.Module):
    """Mixed_5b/5c/5d: 1x1, 5x5, double 3x3 and pooling branches (35x35).

    Args:
        in_channels (int): Input channels.
        pool_features (int): Output channels of the pooling branch.
        norm_cfg (dict): Normalisation config of every convolution.
            Defaults to ``DEFAULT_NORM_CFG``.
        count_include_pad (bool): Whether the 3x3 average pool counts the
            zero padding at borders (PyTorch) or not (TensorFlow's "same"
            pooling, for converted TF weights). Defaults to True.
    """

    def __init__(self,
                 in_channels: int,
                 pool_features: int,
                 norm_cfg: dict = DEFAULT_NORM_CFG,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        conv = partial(BasicConv2d, norm_cfg=norm_cfg)
        self.count_include_pad = count_include_pad
        self.branch1x1 = conv(in_channels, 64, 1)
        self.branch5x5_1 = conv(in_channels, 48, 1)
        self.branch5x5_2 = conv(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = conv(in_channels, 64, 1)
        self.branch3x3dbl_2 = conv(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = conv(96, 96, 3, padding=1)
        self.branch_pool = conv(in_channels, pool_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1x1 = self.branch1x1(x)

        branch5x5 = self.branch5x5_1(x)
        branch5x5 = self.branch5x5_2(branch5x5)

        branch3x3dbl = self.branch3x3dbl_1(x)
        branch3x3dbl = self.branch3x3dbl_2(branch3x3dbl)
        branch3x3dbl = self.branch3x3dbl_3(branch3x3dbl)

        branch_pool = average_pool_3x3(x, self.count_include_pad)
        branch_pool = self.branch_pool(branch_pool)
        return torch.cat([branch1x1, branch5x5, branch3x3dbl, branch_pool], 1)


class InceptionB(nn.Module):
    """Mixed_6a: grid reduction 35x35 -> 17x17.

    Args:
        in_channels (int): Input channels.
        norm_cfg (dict): As in :class:`InceptionA`.
    """

    def __init__(self,
                 in_channels: int,
                 norm_cfg: dict = DEFAULT_NORM_CFG) -> None:
        super().__init__()
        conv = partial(BasicConv2d, norm_cfg=norm_cfg)
        self.branch3x3 = conv(in_channels, 384, 3, stride=2)
        self.branch3x3dbl_1 = conv(in_channels, 64, 1)
        self.branch3x3dbl_2 = conv(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = conv(96, 96, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch3x3 = self.branch3x3(x)

        branch3x3dbl = self.branch3x3dbl_1(x)
        branch3x3dbl = self.branch3x3dbl_2(branch3x3dbl)
        branch3x3dbl = self.branch3x3dbl_3(branch3x3dbl)

        branch_pool = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat([branch3x3, branch3x3dbl, branch_pool], 1)


class InceptionC(nn.Module):
    """Mixed_6b..6e: factorised 7x7 convolutions (17x17).

    Args:
        in_channels (int): Input channels.
        channels_7x7 (int): Width of the factorised 7x7 branches.
        norm_cfg (dict), count_include_pad (bool): As in
            :class:`InceptionA`.
    """

    def __init__(self,
                 in_channels: int,
                 channels_7x7: int,
                 norm_cfg: dict = DEFAULT_NORM_CFG,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        conv = partial(BasicConv2d, norm_cfg=norm_cfg)
        c7 = channels_7x7
        self.count_include_pad = count_include_pad
        self.branch1x1 = conv(in_channels, 192, 1)
        self.branch7x7_1 = conv(in_channels, c7, 1)
        self.branch7x7_2 = conv(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = conv(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = conv(in_channels, c7, 1)
        self.branch7x7dbl_2 = conv(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = conv(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = conv(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = conv(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = conv(in_channels, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1x1 = self.branch1x1(x)

        branch7x7 = self.branch7x7_1(x)
        branch7x7 = self.branch7x7_2(branch7x7)
        branch7x7 = self.branch7x7_3(branch7x7)

        branch7x7dbl = self.branch7x7dbl_1(x)
        branch7x7dbl = self.branch7x7dbl_2(branch7x7dbl)
        branch7x7dbl = self.branch7x7dbl_3(branch7x7dbl)
        branch7x7dbl = self.branch7x7dbl_4(branch7x7dbl)
        branch7x7dbl = self.branch7x7dbl_5(branch7x7dbl)

        branch_pool = average_pool_3x3(x, self.count_include_pad)
        branch_pool = self.branch_pool(branch_pool)
        return torch.cat([branch1x1, branch7x7, branch7x7dbl, branch_pool], 1)


class InceptionD(nn.Module):
    """Mixed_7a: grid reduction 17x17 -> 8x8.

    Args:
        in_channels (int), norm_cfg (dict): As in :class:`InceptionB`.
    """

    def __init__(self,
                 in_channels: int,
                 norm_cfg: dict = DEFAULT_NORM_CFG) -> None:
        super().__init__()
        conv = partial(BasicConv2d, norm_cfg=norm_cfg)
        self.branch3x3_1 = conv(in_channels, 192, 1)
        self.branch3x3_2 = conv(192, 320, 3, stride=2)
        self.branch7x7x3_1 = conv(in_channels, 192, 1)
        self.branch7x7x3_2 = conv(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = conv(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = conv(192, 192, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch3x3 = self.branch3x3_1(x)
        branch3x3 = self.branch3x3_2(branch3x3)

        branch7x7x3 = self.branch7x7x3_1(x)
        branch7x7x3 = self.branch7x7x3_2(branch7x7x3)
        branch7x7x3 = self.branch7x7x3_3(branch7x7x3)
        branch7x7x3 = self.branch7x7x3_4(branch7x7x3)

        branch_pool = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat([branch3x3, branch7x7x3, branch_pool], 1)


class InceptionE(nn.Module):
    """Mixed_7b/7c: expanded filter banks with split 1x3 / 3x1 (8x8).

    Args:
        in_channels (int): Input channels.
        norm_cfg (dict), count_include_pad (bool): As in
            :class:`InceptionA`.
    """

    def __init__(self,
                 in_channels: int,
                 norm_cfg: dict = DEFAULT_NORM_CFG,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        conv = partial(BasicConv2d, norm_cfg=norm_cfg)
        self.count_include_pad = count_include_pad
        self.branch1x1 = conv(in_channels, 320, 1)
        self.branch3x3_1 = conv(in_channels, 384, 1)
        self.branch3x3_2a = conv(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = conv(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = conv(in_channels, 448, 1)
        self.branch3x3dbl_2 = conv(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = conv(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = conv(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = conv(in_channels, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1x1 = self.branch1x1(x)

        branch3x3 = self.branch3x3_1(x)
        branch3x3 = torch.cat([
            self.branch3x3_2a(branch3x3),
            self.branch3x3_2b(branch3x3),
        ], 1)

        branch3x3dbl = self.branch3x3dbl_1(x)
        branch3x3dbl = self.branch3x3dbl_2(branch3x3dbl)
        branch3x3dbl = torch.cat([
            self.branch3x3dbl_3a(branch3x3dbl),
            self.branch3x3dbl_3b(branch3x3dbl),
        ], 1)

        branch_pool = average_pool_3x3(x, self.count_include_pad)
        branch_pool = self.branch_pool(branch_pool)
        return torch.cat([branch1x1, branch3x3, branch3x3dbl, branch_pool], 1)


@MODELS.register_module()
class InceptionV3(BaseModule):
    """Inception V3 backbone.

    The network is split into four stages, indexed by ``out_indices`` and
    ``frozen_stages``:

    ===== ======================== ============ ==================
    stage layers                   channels     size at 299 input
    ===== ======================== ============ ==================
    0     stem (Conv2d_1a..4a)     192          35 x 35
    1     Mixed_5b, 5c, 5d         288          35 x 35
    2     Mixed_6a .. 6e           768          17 x 17
    3     Mixed_7a, 7b, 7c         2048         8 x 8
    ===== ======================== ============ ==================

    Stage 2 ends in Mixed_6e, the input of the auxiliary classifier: a model
    trained with it uses ``out_indices=(2, 3)``.

    Args:
        out_indices (Sequence[int]): Stages whose outputs are returned, in
            increasing order; negative indices count from the end.
            Defaults to ``(3, )``.
        frozen_stages (int): Stages ``0 .. frozen_stages`` have their
            parameters frozen and BatchNorm kept in eval mode; -1 freezes
            nothing. Defaults to -1.
        norm_eval (bool): Keep every BatchNorm layer in eval mode (running
            statistics frozen) while training. Defaults to False.
        pool_count_include_pad (bool): Whether the 3x3 average pools of the
            Mixed blocks count the zero padding at borders, as PyTorch
            models do (True), or not, as TensorFlow's "same" pooling does
            (False; for converted Keras / TF weights). Defaults to True.
        norm_cfg (dict): Normalisation config of every convolution (mmcv),
            e.g. ``dict(type='BN', eps=1e-3, momentum=0.004)`` for
            TensorFlow's decay 0.996, or ``type='SyncBN'``. Defaults to
            ``DEFAULT_NORM_CFG``: BatchNorm with eps 0.001, momentum 0.1.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to truncated normal (std 0.1) for convolutions and ones
            for BatchNorm weights, as torchvision does.

    Example:
        >>> import torch
        >>> from mmpre_inception.models import InceptionV3
        >>> model = InceptionV3(out_indices=(0, 1, 2, 3)).eval()
        >>> for feat in model(torch.rand(1, 3, 299, 299)):
        ...     print(tuple(feat.shape))
        (1, 192, 35, 35)
        (1, 288, 35, 35)
        (1, 768, 17, 17)
        (1, 2048, 8, 8)
    """

    stage_layers: Tuple[Tuple[str, ...], ...] = (
        ('Conv2d_1a_3x3', 'Conv2d_2a_3x3', 'Conv2d_2b_3x3', 'maxpool1',
         'Conv2d_3b_1x1', 'Conv2d_4a_3x3', 'maxpool2'),
        ('Mixed_5b', 'Mixed_5c', 'Mixed_5d'),
        ('Mixed_6a', 'Mixed_6b', 'Mixed_6c', 'Mixed_6d', 'Mixed_6e'),
        ('Mixed_7a', 'Mixed_7b', 'Mixed_7c'),
    )
    stage_channels: Tuple[int, ...] = (192, 288, 768, 2048)

    def __init__(
        self,
        out_indices: Sequence[int] = (3, ),
        frozen_stages: int = -1,
        norm_eval: bool = False,
        pool_count_include_pad: bool = True,
        norm_cfg: dict = DEFAULT_NORM_CFG,
        init_cfg: Optional[Union[Dict, List[Dict]]] = (
            dict(type='TruncNormal', layer='Conv2d', std=0.1),
            dict(type='Constant', layer='BatchNorm2d', val=1)),
    ) -> None:
        super().__init__(
            init_cfg=list(init_cfg)
            if isinstance(init_cfg, tuple) else init_cfg)
        num_stages = len(self.stage_layers)
        if isinstance(out_indices, int):
            out_indices = [out_indices]
        normalized = []
        for index in out_indices:
            if not -num_stages <= index < num_stages:
                raise ValueError(
                    f'InceptionV3: out_indices entry {index} is out of '
                    f'range; there are {num_stages} stages (0..'
                    f'{num_stages - 1}).')
            normalized.append(index % num_stages)
        if sorted(set(normalized)) != normalized or not normalized:
            raise ValueError(
                f'InceptionV3: out_indices must be distinct stages in '
                f'increasing order, got {tuple(out_indices)}.')
        if not -1 <= frozen_stages < num_stages:
            raise ValueError(
                f'InceptionV3: frozen_stages must be in -1..'
                f'{num_stages - 1}, got {frozen_stages}.')
        self.out_indices = tuple(normalized)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

        conv = partial(BasicConv2d, norm_cfg=norm_cfg)
        blocks = dict(norm_cfg=norm_cfg)
        pooled = dict(norm_cfg=norm_cfg,
                      count_include_pad=pool_count_include_pad)
        self.Conv2d_1a_3x3 = conv(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = conv(32, 32, 3)
        self.Conv2d_2b_3x3 = conv(32, 64, 3, padding=1)
        self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Conv2d_3b_1x1 = conv(64, 80, 1)
        self.Conv2d_4a_3x3 = conv(80, 192, 3)
        self.maxpool2 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Mixed_5b = InceptionA(192, pool_features=32, **pooled)
        self.Mixed_5c = InceptionA(256, pool_features=64, **pooled)
        self.Mixed_5d = InceptionA(288, pool_features=64, **pooled)
        self.Mixed_6a = InceptionB(288, **blocks)
        self.Mixed_6b = InceptionC(768, channels_7x7=128, **pooled)
        self.Mixed_6c = InceptionC(768, channels_7x7=160, **pooled)
        self.Mixed_6d = InceptionC(768, channels_7x7=160, **pooled)
        self.Mixed_6e = InceptionC(768, channels_7x7=192, **pooled)
        self.Mixed_7a = InceptionD(768, **blocks)
        self.Mixed_7b = InceptionE(1280, **pooled)
        self.Mixed_7c = InceptionE(2048, **pooled)
        self._freeze_stages()

    def init_weights(self) -> None:
        """Initialise as ``init_cfg`` says; a ``Pretrained`` checkpoint is
        read with the safe loader and must fit the backbone.

        mmengine's ``Pretrained`` initialiser loads with ``strict=False``
        and only logs missing keys, so a checkpoint of another network
        would fine-tune from a random backbone without a word.

        Raises:
            CheckpointError: The checkpoint is unreadable or does not fit;
                torchvision's and timm's files are named as such, with the
                converter to run.
        """
        init_cfg = self.init_cfg
        if not (isinstance(init_cfg, dict)
                and init_cfg.get('type') in ('Pretrained', 'PretrainedInit')):
            super().init_weights()
            return
        self.load_state_dict(
            pretrained_backbone_weights(self, init_cfg['checkpoint'],
                                        init_cfg.get('prefix')))
        self._is_init = True

    def stage_modules(self, stage: int) -> List[nn.Module]:
        """Return the modules of ``stage`` (0..3) in forward order."""
        return [getattr(self, name) for name in self.stage_layers[stage]]

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Return the features of the stages in ``out_indices``.

        Args:
            x (torch.Tensor): Images of shape (N, 3, H, W), H and W >= 75.

        Returns:
            tuple[torch.Tensor]: One (N, C, h, w) map per ``out_indices``.
        """
        if x.dim() != 4 or min(x.shape[-2:]) < MIN_INPUT_SIZE:
            raise ValueError(
                f'InceptionV3 expects an (N, 3, H, W) batch with H and W of '
                f'at least {MIN_INPUT_SIZE}, got shape {tuple(x.shape)}.')
        outs = []
        for stage in range(self.out_indices[-1] + 1):
            for module in self.stage_modules(stage):
                x = module(x)
            if stage in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def _freeze_stages(self) -> None:
        for stage in range(self.frozen_stages + 1):
            for module in self.stage_modules(stage):
                module.eval()
                for param in module.parameters():
                    param.requires_grad = False

    def train(self, mode: bool = True) -> 'InceptionV3':
        """Switch train/eval mode, keeping frozen stages and, with
        ``norm_eval``, every BatchNorm layer in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self


def pretrained_backbone_weights(backbone: nn.Module, checkpoint: str,
                                prefix: Optional[str] = None
                                ) -> Dict[str, torch.Tensor]:
    """The weights under ``prefix`` in ``checkpoint``, checked to fit
    ``backbone`` (a classifier in the checkpoint is left out).

    Args:
        backbone (nn.Module): The backbone to be loaded.
        checkpoint (str): A local file or a URL (downloaded once to
            torch's hub cache), read with the safe loader.
        prefix (str, optional): Key prefix of the backbone in the
            checkpoint, e.g. ``'backbone'``.

    Returns:
        dict: The backbone's state dict.

    Raises:
        CheckpointError: Unreadable, another layout or another network.
    """
    try:
        weights = read_weights(checkpoint)
    except CheckpointError as error:
        if '://' not in checkpoint:
            raise
        raise CheckpointError(
            f'{error}: --cfg-options model.backbone.init_cfg.checkpoint='
            'FILE') from None
    if prefix:
        start = prefix.rstrip('.') + '.'
        selected = {key[len(start):]: value for key, value in weights.items()
                    if key.startswith(start)}
        if not selected:
            if 'Conv2d_1a_3x3.conv.weight' in weights:
                raise CheckpointError(
                    f'checkpoint {checkpoint} has no {start}* weights: it '
                    'is a torchvision or timm Inception V3 state dict; '
                    'convert it first with tools/model_converters/'
                    'torchvision2mmpre_inception.py (or timm2mmpre_'
                    'inception.py) and fine-tune from the result')
            raise CheckpointError(
                f'checkpoint {checkpoint} has no {start}* weights; is it a '
                'checkpoint of another architecture?')
        weights = selected
    # mmpretrain's monolithic backbone also holds the classifiers.
    weights = {key: value for key, value in weights.items()
               if not key.startswith(('fc.', 'AuxLogits.'))}
    check_state_dict_fits(backbone.state_dict(), weights,
                          f'checkpoint {checkpoint}')
    return weights
