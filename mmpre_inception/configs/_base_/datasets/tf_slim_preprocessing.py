# TF-slim's Inception input (inception_preprocessing.py), which TensorFlow's
# Inception V3 weights and the Cloud TPU recipe expect: pixels scaled to
# [-1, 1] (Keras' preprocess_input), and evaluation on the central 87.5% of
# each side resized to 299 by TF1's bilinear resize, in float
# (preprocess_for_eval). Configs apply it with
#   data_preprocessor.update(tf_input_scaling)
#   test_pipeline = tf_test_pipeline
from mmpretrain.datasets import PackInputs

from mmpre_inception.datasets import (CentralCropResize,
                                      LoadImageFromFile)

tf_input_scaling = dict(mean=[127.5] * 3, std=[127.5] * 3)
tf_test_pipeline = [
    dict(type=LoadImageFromFile),
    dict(type=CentralCropResize, fraction=0.875, size=299),
    dict(type=PackInputs),
]
