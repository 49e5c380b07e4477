# The `make demo` job: the main config on the generated shapes data set
# (tools/dataset_converters/make_synthetic_imagenet.py), at 112x112 for
# three epochs (75 steps), so it trains on a 2-core CPU in about a minute.
# Everything not changed here (label smoothing, auxiliary loss, weight
# averaging, gradient clipping) is the main recipe.
from mmengine.config import read_base

with read_base():
    from ..inception_v3_8xb32_in1k import *

from mmcv.transforms import RandomFlip
from mmengine.optim import OptimWrapper
from mmpretrain.datasets import (CenterCrop, PackInputs,
                                 RandomResizedCrop, ResizeEdge)
from torch.optim import AdamW

from mmpre_inception.datasets import LoadImageFromFile
from mmpre_inception.engine import TrainValEMAHook

data_root = 'work_dirs/demo/data'
# The ten classes of the data set (SHAPES of
# make_synthetic_imagenet.py), in label order.
classes = ('circle', 'square', 'triangle', 'cross', 'star', 'circle_outline',
           'square_outline', 'triangle_outline', 'cross_outline',
           'star_outline')
input_size = 112
max_epochs = 3

model.head.num_classes = len(classes)
data_preprocessor.num_classes = len(classes)

train_pipeline = [
    dict(type=LoadImageFromFile),
    dict(type=RandomResizedCrop, scale=input_size,
         crop_ratio_range=(0.5, 1.0)),
    dict(type=RandomFlip, prob=0.5, direction='horizontal'),
    dict(type=PackInputs),
]
test_pipeline = [
    dict(type=LoadImageFromFile),
    dict(type=ResizeEdge, scale=input_size, edge='short'),
    dict(type=CenterCrop, crop_size=input_size),
    dict(type=PackInputs),
]


# Both loaders: no worker processes for images this small, and the layout
# make_synthetic_imagenet.py writes.
shapes_loader = dict(batch_size=16, num_workers=0, persistent_workers=False)
shapes_dataset = dict(type='mmpretrain.CustomDataset', data_root=data_root,
                      metainfo=dict(classes=classes))
train_dataloader.update(
    **shapes_loader,
    dataset=dict(**shapes_dataset, ann_file='meta/train.txt',
                 data_prefix='train', pipeline=train_pipeline))
val_dataloader.update(
    **shapes_loader,
    dataset=dict(**shapes_dataset, ann_file='meta/val.txt',
                 data_prefix='val', pipeline=test_pipeline))
test_dataloader = val_dataloader

# A few hundred steps are too few for RMSProp at the paper's rate and for
# a 0.9999 weight average: AdamW, and an average over about 20 steps.
optim_wrapper = dict(
    type=OptimWrapper,
    optimizer=dict(type=AdamW, lr=1e-3, weight_decay=0.01),
    clip_grad=dict(max_norm=2.0))
param_scheduler = dict(
    type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True, begin=0,
    end=max_epochs)
train_cfg.update(max_epochs=max_epochs, val_interval=max_epochs)
custom_hooks = [
    dict(type=TrainValEMAHook, momentum=0.05, update_buffers=True,
         priority='ABOVE_NORMAL')
]

default_hooks.logger.interval = 4
# Every epoch kept: docs/analysis.md draws the errors of the second.
default_hooks.checkpoint.update(interval=1, max_keep_ckpts=3)
randomness = dict(seed=0)
