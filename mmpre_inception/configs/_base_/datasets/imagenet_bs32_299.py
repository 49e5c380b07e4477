# ImageNet-1k at 299x299, in mmpretrain's layout under data_root:
#   train/<synset>/*.JPEG, val/*.JPEG, meta/train.txt, meta/val.txt
# The test pipeline and preprocessor are mmpretrain's Inception V3 evaluation
# (short edge 342, centre crop 299, ImageNet mean/std on RGB), so converted
# weights reproduce the published accuracy.
from mmcv.transforms import RandomFlip
from mmengine.dataset import DefaultSampler
from mmpretrain.datasets import (CenterCrop, PackInputs, RandomResizedCrop,
                                 ResizeEdge)
from mmpretrain.evaluation import Accuracy

# mmpretrain's ImageNet with `exclude_file` (below)
from mmpre_inception.datasets import LoadImageFromFile

data_root = 'data/imagenet'
# A registry name, not the class: mmpretrain's inferencer (and its
# get_model) looks the data set up by name for its class names when a
# checkpoint carries none. ``mmpre_inception.datasets.ImageNet`` is
# mmpretrain's with the devkit's blacklist as ``exclude_file``.
dataset_type = 'mmpre_inception.ImageNet'

data_preprocessor = dict(
    num_classes=1000,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    # Images are decoded as BGR; the model takes RGB.
    to_rgb=True,
)

train_pipeline = [
    dict(type=LoadImageFromFile),
    dict(type=RandomResizedCrop, scale=299),
    dict(type=RandomFlip, prob=0.5, direction='horizontal'),
    dict(type=PackInputs),
]

test_pipeline = [
    dict(type=LoadImageFromFile),
    dict(type=ResizeEdge, scale=342, edge='short'),
    dict(type=CenterCrop, crop_size=299),
    dict(type=PackInputs),
]

train_dataloader = dict(
    batch_size=32,
    # 'auto': this machine's CPUs per rank, less one (ConsoleSummaryRunner
    # resolves it and logs the number); an integer is used as it is.
    num_workers='auto',
    # Workers live across epochs. PyTorch refuses this with num_workers=0:
    # set persistent_workers=False with it.
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='meta/train.txt',
        data_prefix='train',
        pipeline=train_pipeline),
    sampler=dict(type=DefaultSampler, shuffle=True),
)

val_dataloader = dict(
    batch_size=32,
    num_workers='auto',
    # One pass per evaluation, so persistent workers would save only their
    # start-up; without them num_workers=0 works as it is.
    persistent_workers=False,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='meta/val.txt',
        data_prefix='val',
        # The paper's validation set leaves out the devkit's blacklist
        # (48,238 of 50,000 images): add exclude_file='<the devkit's
        # data/ILSVRC2015_clsloc_validation_blacklist.txt>' (relative to
        # data_root, or absolute). Not set here, so that configs which
        # inherit this one with another dataset type do not inherit it.
        pipeline=test_pipeline),
    sampler=dict(type=DefaultSampler, shuffle=False),
)
val_evaluator = dict(type=Accuracy, topk=(1, 5))

test_dataloader = val_dataloader
test_evaluator = val_evaluator
