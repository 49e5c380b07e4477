# 10-crop evaluation (Krizhevsky et al., 2012): each image resized to
# shorter side 342 (the single crop's 299 x 256/224), the 4 corner crops and
# the centre crop of 299, and the mirror image of each; an image's scores
# are the mean of the 10 softmax outputs.
#   python tools/test.py configs/multi_crop/inception_v3_10crop_in1k.py \
#       CKPT --tta
from mmengine.config import read_base

with read_base():
    from .._base_.tta.multi_crop_views import *
    from ..inception_v3_8xb32_in1k import *

from mmcv.transforms import TestTimeAug

from mmpre_inception.datasets import LoadImageFromFile

tta_pipeline = [
    dict(type=LoadImageFromFile),
    dict(type=TestTimeAug,
         transforms=[single_scale, five_crops, mirrored, packed]),
]
# A batch of 32 images is 320 crops of 299x299 uint8 (86 MB) before the
# network sees them, 64 at a time (tta_model.crops_per_forward).
test_dataloader.update(batch_size=32)
