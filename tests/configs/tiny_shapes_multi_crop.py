# The tiny test config with its own views: with --tta, 10 crops (the 4
# corners and the centre of 80 from the 96-pixel images, and their mirror
# images); without, TF-slim's central crop. A second ensemble member whose
# views differ from tiny_shapes.py's.
from mmengine.config import read_base

with read_base():
    from .tiny_shapes import *

from mmcv.transforms import RandomFlip, TestTimeAug
from mmpretrain.datasets import PackInputs

from mmpre_inception.datasets import (CentralCropResize,
                                      LoadImageFromFile,
                                      PositionedCrop)

val_dataloader.dataset.pipeline = [
    dict(type=LoadImageFromFile),
    dict(type=CentralCropResize, fraction=0.875, size=input_size),
    dict(type=PackInputs),
]
test_dataloader = val_dataloader
tta_pipeline = [
    dict(type=LoadImageFromFile),
    dict(
        type=TestTimeAug,
        transforms=[
            [
                dict(type=PositionedCrop, position=position,
                     crop_size=input_size)
                for position in ('top_left', 'top_right', 'bottom_left',
                                 'bottom_right', 'centre')
            ],
            [dict(type=RandomFlip, prob=0.0),
             dict(type=RandomFlip, prob=1.0)],
            [dict(type=PackInputs)],
        ]),
]
