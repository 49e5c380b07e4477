# Inception V3 on ImageNet-1k, 8 GPUs x 32 images, 299x299, with the
# regularisation of "Rethinking the Inception Architecture" (Szegedy et al.,
# 2016): label smoothing 0.1 (section 7), the batch-normalised auxiliary
# classifier with loss weight 0.4 (section 4), dropout before the
# classifier, RMSProp with clipping (the schedule file), and evaluation on a
# running average of the weights (section 8).
#
# Evaluates mmpretrain's published checkpoint (77.57 / 93.58) directly:
#   python tools/test.py configs/inception_v3_8xb32_in1k.py CKPT
from mmengine.config import read_base

with read_base():
    from ._base_.datasets.imagenet_bs32_299 import *
    from ._base_.default_runtime import *
    from ._base_.models.inception_v3 import *
    from ._base_.schedules.imagenet_bs256_rmsprop import *

from mmpre_inception.engine import TrainValEMAHook
from mmpretrain.models import LabelSmoothLoss

model.head.update(
    # TF-slim's inception_v3 keeps 80% of the pooled features.
    dropout=0.2,
    # Applied to the main and the auxiliary logits alike, as TF-slim does.
    loss=dict(type=LabelSmoothLoss, label_smooth_val=0.1, mode='original'),
)

# Validation, test and saved checkpoints use the averaged weights;
# the raw ones are kept as `ema_state_dict` for resuming. Decay 0.9999 per
# step is TF-slim's --moving_average_decay; BN statistics are averaged too.
custom_hooks = [
    dict(
        type=TrainValEMAHook,
        momentum=1e-4,
        update_buffers=True,
        priority='ABOVE_NORMAL')
]
