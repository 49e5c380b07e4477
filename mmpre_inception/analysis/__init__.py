"""What only the benchmark, the FLOP counter and the tests use: a FLOP
count, a torchvision (GPU-capable) decoding path, and mmpretrain's own
Inception V3 as a reference. Not needed to train or evaluate."""
from .flops import count_flops
from .mmpretrain_reference import (build_mmpretrain_classifier,
                                   mmpretrain_inception_config_path)

__all__ = [
    'count_flops', 'build_mmpretrain_classifier',
    'mmpretrain_inception_config_path'
]
