# Evaluation as timm does it for inception_v3.tv_in1k, .tf_in1k and
# .tf_adv_in1k (timm's pretrained cfg for them): the resize and crop of
# .gluon_in1k (short edge 341, bicubic, PIL; centre crop 299), on pixels
# scaled to [-1, 1] (mean = std = 127.5).
# Weights: tools/model_converters/timm2mmpre_inception.py
# --variant tv|tf|tf_adv
from mmengine.config import read_base

with read_base():
    from .inception_v3_timm_gluon_in1k import *

data_preprocessor.update(mean=[127.5] * 3, std=[127.5] * 3)
