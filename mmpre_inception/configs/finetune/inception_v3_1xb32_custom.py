# Fine-tune ImageNet-trained Inception V3 on your own image folders:
#   data/custom/train/<class name>/*.jpg
#   data/custom/val/<class name>/*.jpg
# The backbone starts from `pretrained`; the classifier and the auxiliary
# classifier are new, sized for `num_classes`. One GPU (or CPU), batch 32.
# Set `num_classes` and `data_root` in a config that inherits this one
# (docs/training.md shows how), or override both places on the command line:
#   python tools/train.py configs/finetune/inception_v3_1xb32_custom.py \
#       --cfg-options model.head.num_classes=3 \
#       data_preprocessor.num_classes=3 ...
from mmengine.config import read_base

with read_base():
    from ..inception_v3_8xb32_in1k import *

from mmengine.optim import OptimWrapper
from torch.optim import SGD

from mmpre_inception.engine import MergedGroupsOptimWrapperConstructor
from mmpre_inception.evaluation import AccuracyUpToClasses

# mmpretrain's published Inception V3 (converted from torchvision); a local
# path to it, or to any checkpoint from tools/model_converters/, works too.
pretrained = ('https://download.openmmlab.com/mmclassification/v0/'
              'inception-v3/inception-v3_3rdparty_8xb32_in1k_20220615-'
              'dcd4d910.pth')
num_classes = 5
data_root = 'data/custom'
max_epochs = 30

model.backbone.init_cfg = dict(
    type='Pretrained', checkpoint=pretrained, prefix='backbone')
model.head.num_classes = num_classes
data_preprocessor.num_classes = num_classes

# Class names and labels come from the sub-folder names.
train_dataloader.dataset = dict(
    type='mmpretrain.CustomDataset',
    data_root=data_root,
    data_prefix='train',
    pipeline=train_pipeline)
val_dataloader.dataset = dict(
    type='mmpretrain.CustomDataset',
    data_root=data_root,
    data_prefix='val',
    pipeline=test_pipeline)
test_dataloader = val_dataloader
# Top-5 only where there are at least 5 classes, whatever num_classes the
# command line gives.
val_evaluator = dict(type=AccuracyUpToClasses, topk=(1, 5))
test_evaluator = val_evaluator

# The pretrained backbone moves at a tenth of the new classifier's rate.
optim_wrapper = dict(
    type=OptimWrapper,
    optimizer=dict(type=SGD, lr=0.01, momentum=0.9, weight_decay=1e-4,
                   foreach=True),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}),
    constructor=MergedGroupsOptimWrapperConstructor,
    clip_grad=dict(max_norm=2.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, by_epoch=True,
         begin=1, end=max_epochs),
]
train_cfg.update(max_epochs=max_epochs)
# A 0.9999 weight average needs far more steps than a short fine-tune has.
custom_hooks = []
auto_scale_lr = dict(base_batch_size=32)
