# Inception V3 with TensorFlow's weights (keras.applications.InceptionV3,
# converted by tools/model_converters/keras2mmpre_inception.py): inputs
# scaled to [-1, 1] as Keras' preprocess_input does (mean = std = 127.5, RGB),
# 3x3 average pools that ignore the padded border as TensorFlow's "same"
# pooling does, and no auxiliary classifier (Keras has none). Images are
# prepared as TF-slim evaluates these weights (inception_preprocessing.
# preprocess_for_eval): the central 87.5% of each side, resized to 299 by
# TF1's bilinear resize, in float (the main config's short edge 342 and
# centre crop 299 only approximate it).
from mmengine.config import read_base

with read_base():
    from .._base_.datasets.tf_slim_preprocessing import *
    from ..inception_v3_8xb32_in1k import *

model.backbone.pool_count_include_pad = False
model.head.aux_logits = False
model.backbone.out_indices = (3, )
data_preprocessor.update(tf_input_scaling)
test_pipeline = tf_test_pipeline
val_dataloader.dataset.pipeline = test_pipeline
test_dataloader.dataset.pipeline = test_pipeline
