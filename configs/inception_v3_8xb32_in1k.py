# Inception V3 on ImageNet-1k, 8 GPUs x 32 images, 299x299.
# Evaluates mmpretrain's published checkpoint (77.57 / 93.58) directly:
#   python tools/test.py configs/inception_v3_8xb32_in1k.py CKPT
_base_ = [
    '_base_/models/inception_v3.py',
    '_base_/datasets/imagenet_bs32_299.py',
    '_base_/schedules/imagenet_bs256_coslr.py',
    '_base_/default_runtime.py',
]
