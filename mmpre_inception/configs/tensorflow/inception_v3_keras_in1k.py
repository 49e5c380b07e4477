# Inception V3 with TensorFlow's weights (keras.applications.InceptionV3,
# converted by tools/model_converters/keras2mmpre_inception.py): inputs
# scaled to [-1, 1] as Keras' preprocess_input does (mean = std = 127.5, RGB),
# 3x3 average pools that ignore the padded border as TensorFlow's "same"
# pooling does, and no auxiliary classifier (Keras has none). The resize and
# crop are our main config's (short edge 342, centre 299), which
# approximate TF-slim's 87.5% central crop resized to 299.
from mmengine.config import read_base

with read_base():
    from ..inception_v3_8xb32_in1k import *

model.backbone.pool_count_include_pad = False
model.head.aux_logits = False
model.backbone.out_indices = (3, )
data_preprocessor.update(mean=[127.5] * 3, std=[127.5] * 3)
