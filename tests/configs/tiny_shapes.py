# The demo config shrunk for tests: 80x80 inputs, batch 8, 2 epochs. Tests
# point the data loaders at their generated data with --cfg-options
# (tests/conftest.py: tiny_options).
from mmengine.config import read_base

with read_base():
    from ...configs.demo.inception_v3_1xb16_shapes import *

from mmpretrain.datasets import (CenterCrop, PackInputs, RandomResizedCrop,
                                 ResizeEdge)

from mmpre_inception.datasets import LoadImageFromFile

input_size = 80
train_dataloader.batch_size = 8
train_dataloader.dataset.pipeline = [
    dict(type=LoadImageFromFile),
    dict(type=RandomResizedCrop, scale=input_size),
    dict(type=PackInputs),
]
val_dataloader.batch_size = 8
val_dataloader.dataset.pipeline = [
    dict(type=LoadImageFromFile),
    dict(type=ResizeEdge, scale=input_size, edge='short'),
    dict(type=CenterCrop, crop_size=input_size),
    dict(type=PackInputs),
]
test_dataloader = val_dataloader
param_scheduler.update(T_max=2, end=2)
train_cfg.update(max_epochs=2, val_interval=1)
default_hooks.logger.interval = 1
default_hooks.checkpoint.update(interval=1, max_keep_ckpts=3)
