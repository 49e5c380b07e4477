# The synchronous recipe of the Cloud TPU reference implementation
# (tensorflow/tpu, models/experimental/inception/inception_v3.py and its
# inception_preprocessing.py), reported at more than 78.1% top-1 after
# about 170 epochs. What it sets, and how it reads here:
# - global batch 1024 (8 x 128); lr 0.165 per 256 images, linear: 0.66;
#   x0.94 every 3 epochs, staircase. Its floor of 1e-4 x the initial rate
#   is reached only after 446 epochs, so a plain StepLR is the same here.
# - RMSProp decay 0.9, momentum 0.9, epsilon 1.0, no gradient clipping.
# - weight decay 4e-5 on conv and fc weights: TF-slim's inception_v3
#   arg scope, which the TPU model is built with (from the schedule file).
# - weight average with decay 0.995 of weights and BatchNorm statistics;
#   evaluation on the average.
# - BatchNorm decay 0.996 (momentum 0.004), epsilon 1e-3 (the backbone's).
# - label smoothing 0.1 on both heads, auxiliary loss weight 0.4, dropout
#   0.2 (the main config).
# - inputs scaled to [-1, 1]; evaluation is TF-slim's central 87.5% crop
#   resized to 299. Training crops cover 10-100% of the image (its
#   distorted box must hold 10% of the whole-image box) with aspect 3/4-4/3,
#   resized to 299, and flipped. Not reproduced: its small colour offsets
#   (brightness +-32/255, chroma +-0.1), which mmpretrain has no transform
#   for.
from mmengine.config import read_base

with read_base():
    from ._base_.datasets.tf_slim_preprocessing import *
    from .inception_v3_8xb32_in1k import *

from mmcv.transforms import RandomFlip
from mmpretrain.datasets import PackInputs, RandomResizedCrop

from mmpre_inception.datasets import LoadImageFromFile

# TensorFlow's BatchNorm decay 0.996 is PyTorch's momentum 1 - 0.996.
tpu_norm_cfg = dict(type='BN', eps=1e-3, momentum=0.004)
model.backbone.update(norm_cfg=tpu_norm_cfg)
model.head.update(aux_norm_cfg=tpu_norm_cfg)
data_preprocessor.update(tf_input_scaling)

train_dataloader.update(batch_size=128)
train_dataloader.dataset.pipeline = [
    dict(type=LoadImageFromFile),
    dict(type=RandomResizedCrop, scale=299, crop_ratio_range=(0.1, 1.0)),
    dict(type=RandomFlip, prob=0.5, direction='horizontal'),
    dict(type=PackInputs),
]
test_pipeline = tf_test_pipeline
val_dataloader.dataset.pipeline = test_pipeline
test_dataloader.dataset.pipeline = test_pipeline

optim_wrapper.optimizer.update(lr=0.66)
optim_wrapper.update(clip_grad=None)
param_scheduler.update(step_size=3, gamma=0.94)
train_cfg.update(max_epochs=170)
auto_scale_lr = dict(base_batch_size=1024)

custom_hooks[0].update(momentum=0.005)  # TrainValEMAHook: 1 - 0.995
