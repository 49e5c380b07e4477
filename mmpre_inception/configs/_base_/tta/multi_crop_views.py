# The steps the multi-crop configs (configs/multi_crop/) combine with mmcv's
# TestTimeAug, which applies every combination of one choice per step.
from mmcv.transforms import RandomFlip
from mmpretrain.datasets import PackInputs, ResizeEdge

from mmpre_inception.datasets import PositionedCrop

crop_size = 299
# The single crop's scale: shorter side 342 (299 x 256/224).
single_scale = [dict(type=ResizeEdge, scale=342, edge='short')]
# AlexNet's five crops: the four corners and the centre.
five_crops = [
    dict(type=PositionedCrop, position=position, crop_size=crop_size)
    for position in ('top_left', 'top_right', 'bottom_left', 'bottom_right',
                     'centre')
]
# GoogLeNet's six crops of a square: those five and the whole square
# resized to crop_size.
six_crops = five_crops + [
    dict(type=PositionedCrop, position='whole', crop_size=crop_size)
]
# Each view as it is and mirrored.
mirrored = [dict(type=RandomFlip, prob=0.0), dict(type=RandomFlip, prob=1.0)]
# The last step: each view packed for the model.
packed = [dict(type=PackInputs)]
