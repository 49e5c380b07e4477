# Evaluation as timm does it for inception_v3.gluon_in1k (timm's pretrained
# cfg for it): ImageNet mean/std, as our main config, but the short edge
# resized to floor(299 / 0.875) = 341 with bicubic interpolation (PIL),
# centre crop 299.
# Weights: tools/model_converters/timm2mmpre_inception.py --variant gluon
from mmengine.config import read_base

with read_base():
    from ..inception_v3_8xb32_in1k import *

from mmpretrain.datasets import CenterCrop, PackInputs, ResizeEdge

from mmpre_inception.datasets import LoadImageFromFile

test_pipeline = [
    dict(type=LoadImageFromFile),
    dict(type=ResizeEdge, scale=341, edge='short', backend='pillow',
         interpolation='bicubic'),
    dict(type=CenterCrop, crop_size=299),
    dict(type=PackInputs),
]
val_dataloader.dataset.pipeline = test_pipeline
test_dataloader.dataset.pipeline = test_pipeline
