# 144-crop evaluation, GoogLeNet's protocol (Szegedy et al., 2015, section
# 10) that the Inception V3 paper reports (Table 3): each image resized to
# 4 shorter sides, the left, centre and right (top, middle, bottom) squares
# of each, from each square the 4 corner crops and the centre crop of 299
# and the whole square resized to 299, each also mirrored:
# 4 x 3 x 6 x 2 = 144 views, softmax averaged.
# GoogLeNet's scales for its 224 input are 256, 288, 320 and 352; the paper
# gives none for 299, so these keep GoogLeNet's ratios to the input
# (1.143, 1.286, 1.429, 1.571 x 299, rounded).
#   python tools/test.py configs/multi_crop/inception_v3_144crop_in1k.py \
#       CKPT --tta
from mmengine.config import read_base

with read_base():
    from .._base_.tta.multi_crop_views import *
    from ..inception_v3_8xb32_in1k import *

from mmcv.transforms import TestTimeAug
from mmpretrain.datasets import ResizeEdge

from mmpre_inception.datasets import LoadImageFromFile, SquareCrop

scales = (342, 384, 427, 470)
tta_pipeline = [
    dict(type=LoadImageFromFile),
    dict(
        type=TestTimeAug,
        transforms=[
            [dict(type=ResizeEdge, scale=scale, edge='short')
             for scale in scales],
            [dict(type=SquareCrop, position=position)
             for position in ('first', 'centre', 'last')],
            six_crops,
            mirrored,
            packed,
        ]),
]
# Each image is 144 crops of 299x299 uint8 (39 MB) before the network sees
# them, 64 at a time (tta_model.crops_per_forward): 2 images per batch keep
# a batch at 77 MB whatever the number of workers prefetching.
test_dataloader.update(batch_size=2)
