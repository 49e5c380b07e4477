# 12-crop evaluation, the paper's "12 crops" (Szegedy et al., 2016, Table 3)
# read as GoogLeNet's crops of one square at one scale: each image resized
# to shorter side 342, its centre square, and from that square the 4 corner
# crops and the centre crop of 299 and the whole square resized to 299, each
# also mirrored; an image's scores are the mean of the 12 softmax outputs.
# The paper does not say which 12 crops it used; this is our reading.
#   python tools/test.py configs/multi_crop/inception_v3_12crop_in1k.py \
#       CKPT --tta
from mmengine.config import read_base

with read_base():
    from .._base_.tta.multi_crop_views import *
    from ..inception_v3_8xb32_in1k import *

from mmcv.transforms import TestTimeAug

from mmpre_inception.datasets import LoadImageFromFile, SquareCrop

tta_pipeline = [
    dict(type=LoadImageFromFile),
    dict(type=TestTimeAug,
         transforms=[single_scale, [dict(type=SquareCrop, position='centre')],
                     six_crops, mirrored, packed]),
]
# A batch of 32 images is 384 crops of 299x299 uint8 (103 MB) before the
# network sees them, 64 at a time (tta_model.crops_per_forward).
test_dataloader.update(batch_size=32)
