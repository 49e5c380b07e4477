# The tiny test config evaluated with TF-slim's preprocessing (central
# 87.5%, TF1 bilinear resize): a second ensemble member whose views differ
# from tiny_shapes.py's.
from mmengine.config import read_base

with read_base():
    from .tiny_shapes import *

from mmpretrain.datasets import PackInputs

from mmpre_inception.datasets import (CentralCropResize,
                                      LoadImageFromFileChecked)

val_dataloader.dataset.pipeline = [
    dict(type=LoadImageFromFileChecked),
    dict(type=CentralCropResize, fraction=0.875, size=input_size),
    dict(type=PackInputs),
]
test_dataloader = val_dataloader
