# Inception V3 with the auxiliary classifier of "Rethinking the Inception
# Architecture" (Szegedy et al., 2016). The backbone also returns stage 2
# (Mixed_6e), which the auxiliary classifier reads; the neck pools only the
# last stage. At inference only the main classifier runs.
from mmpretrain.models import CrossEntropyLoss

from mmpre_inception.models import (InceptionClassifier, InceptionV3,
                                    InceptionV3Head, LastStageGAP)

model = dict(
    type=InceptionClassifier,
    # NHWC weights and inputs: oneDNN and cuDNN run Inception's convolutions
    # faster in it (docs/benchmark.md measures how much).
    # `tools/train.py --nchw` turns it off.
    channels_last=True,
    backbone=dict(type=InceptionV3, out_indices=(2, 3)),
    neck=dict(type=LastStageGAP),
    head=dict(
        type=InceptionV3Head,
        num_classes=1000,
        in_channels=2048,
        dropout=0.5,
        aux_logits=True,
        aux_loss_weight=0.4,
        loss=dict(type=CrossEntropyLoss, loss_weight=1.0),
        topk=(1, 5),
    ),
)

# `tools/test.py --tta` wraps the model in this: the views of each image
# (the config's `tta_pipeline`, by default the mirror image) go through the
# network `crops_per_forward` at a time and their softmax is averaged.
# A registry name rather than the class: mmpretrain's tools/test.py --tta
# unpacks this dict, which turns a class into an object its saved copy of
# the config cannot write.
tta_model = dict(type='mmpre_inception.MeanSoftmaxTTA', crops_per_forward=64)
