# Inception V3 on ImageNet-1k with today's common regularisation instead of
# the paper's: the DeiT recipe (Touvron et al., 2021, "Training
# data-efficient image transformers", Table 9), which mmpretrain and timm
# also use for convolutional networks. AdamW at 5e-4 for a total batch of
# 512 (8 x 64; scaled linearly, lr = 5e-4 * batch / 512), weight decay
# 0.05, 5 warm-up epochs then cosine decay to 1e-5 over 300 epochs,
# RandAugment (2 ops, magnitude 9, std 0.5), random erasing 0.25, Mixup 0.8,
# CutMix 1.0 and label smoothing 0.1. The auxiliary classifier (weight 0.4)
# and dropout stay.
from mmengine.config import read_base

with read_base():
    from ._base_.datasets.imagenet_bs32_299 import *
    from ._base_.default_runtime import *
    from ._base_.models.inception_v3 import *

from mmcv.transforms import RandomFlip
from mmengine.optim import OptimWrapper
from mmpretrain.datasets import (PackInputs, RandAugment, RandomErasing,
                                 RandomResizedCrop)
from mmpretrain.models import CutMix, LabelSmoothLoss, Mixup
from torch.optim import AdamW

from mmpre_inception.datasets import LoadImageFromFile
from mmpre_inception.engine import MergedGroupsOptimWrapperConstructor

max_epochs = 300
warmup_epochs = 5
# RandAugment and random erasing work on BGR images before normalisation.
bgr_mean = data_preprocessor.mean[::-1]
bgr_std = data_preprocessor.std[::-1]

model.head.loss = dict(
    type=LabelSmoothLoss, label_smooth_val=0.1, mode='original')
# One of the two is applied to each batch; targets become soft scores.
model.train_cfg = dict(
    augments=[dict(type=Mixup, alpha=0.8),
              dict(type=CutMix, alpha=1.0)])

train_pipeline = [
    dict(type=LoadImageFromFile),
    dict(type=RandomResizedCrop, scale=299, backend='pillow',
         interpolation='bicubic'),
    dict(type=RandomFlip, prob=0.5, direction='horizontal'),
    dict(
        type=RandAugment,
        policies='timm_increasing',
        num_policies=2,
        total_level=10,
        magnitude_level=9,
        magnitude_std=0.5,
        hparams=dict(pad_val=[round(x) for x in bgr_mean],
                     interpolation='bicubic')),
    dict(
        type=RandomErasing,
        erase_prob=0.25,
        mode='rand',
        min_area_ratio=0.02,
        max_area_ratio=1 / 3,
        fill_color=bgr_mean,
        fill_std=bgr_std),
    dict(type=PackInputs),
]
train_dataloader.update(batch_size=64)
train_dataloader.dataset.pipeline = train_pipeline

optim_wrapper = dict(
    type=OptimWrapper,
    # fused: torch's one-kernel AdamW step, on CPUs and GPUs alike, in the
    # two merged groups the constructor makes. (Its default, the foreach
    # step on GPUs only, reads every parameter's step count back to the
    # host: 584 calls per step.)
    optimizer=dict(
        type=AdamW, lr=5e-4, betas=(0.9, 0.999), eps=1e-8,
        weight_decay=0.05, fused=True),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0),
    constructor=MergedGroupsOptimWrapperConstructor)

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - warmup_epochs,
        eta_min=1e-5,
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs),
]

train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=512)
