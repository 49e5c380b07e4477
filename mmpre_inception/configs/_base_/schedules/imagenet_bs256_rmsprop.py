# The optimisation of "Rethinking the Inception Architecture" (Szegedy et
# al., 2016, section 8): RMSProp with decay 0.9 and epsilon 1.0, learning
# rate 0.045 decayed by 0.94 every two epochs, gradient clipping at 2.0,
# 100 epochs. Momentum 0.9 and the L2 weight decay of 4e-5 on conv and fc
# weights are TF-slim's (train_image_classifier.py, inception_v3.py), the
# code the paper's models were trained with.
#
# Learning rate rule: the paper's 0.045 was used by 50 asynchronous
# replicas, each stepping with its own batch of 32, which has no exact
# synchronous equivalent. We keep 0.045 for our total batch of 256 (8 x 32)
# and scale it linearly from there: lr = 0.045 * total_batch / 256, which
# `tools/train.py --auto-scale-lr` applies for other batch sizes.
from mmengine.optim import OptimWrapper

from mmpre_inception.engine import (MergedGroupsOptimWrapperConstructor,
                                    RMSpropTF)

optim_wrapper = dict(
    type=OptimWrapper,
    # TensorFlow's rule (timm's RMSpropTF, as a multi-tensor step on every
    # device): epsilon inside the square root, the mean square starting at
    # 1, the rate inside the momentum. torch.optim.RMSprop with eps=1.0
    # would be a different optimizer.
    optimizer=dict(
        type=RMSpropTF,
        lr=0.045,
        alpha=0.9,
        eps=1.0,
        momentum=0.9,
        weight_decay=4e-5),
    # TF-slim regularises only conv and fc weights, not BN or biases: two
    # parameter groups, each stepped with a handful of multi-tensor calls.
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0),
    constructor=MergedGroupsOptimWrapperConstructor,
    clip_grad=dict(max_norm=2.0),
)

# Staircase decay: x0.94 at the start of every second epoch. Schedulers
# are named by registry name (mmengine's), not class, so that mmpretrain's
# vis_scheduler can print the schedule (it dumps it as JSON).
param_scheduler = dict(type='StepLR', step_size=2, gamma=0.94, by_epoch=True)

train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=1)
val_cfg = dict()
test_cfg = dict()

auto_scale_lr = dict(base_batch_size=256)
