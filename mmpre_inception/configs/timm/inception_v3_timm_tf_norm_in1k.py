# Evaluation as timm does it for inception_v3.tv_in1k, .tf_in1k and
# .tf_adv_in1k (timm's pretrained cfg for them): pixels scaled to [-1, 1]
# (mean = std = 127.5), short edge resized to floor(299 / 0.875) = 341
# with bicubic interpolation (PIL), centre crop 299.
# Weights: tools/model_converters/timm2mmpre_inception.py --variant tv|tf|tf_adv
from mmengine.config import read_base

with read_base():
    from ..inception_v3_8xb32_in1k import *

from mmpretrain.datasets import CenterCrop, PackInputs, ResizeEdge

from mmpre_inception.datasets import LoadImageFromFileChecked

data_preprocessor.update(mean=[127.5] * 3, std=[127.5] * 3)
test_pipeline = [
    dict(type=LoadImageFromFileChecked),
    dict(type=ResizeEdge, scale=341, edge='short', backend='pillow',
         interpolation='bicubic'),
    dict(type=CenterCrop, crop_size=299),
    dict(type=PackInputs),
]
val_dataloader.dataset.pipeline = test_pipeline
test_dataloader.dataset.pipeline = test_pipeline
