"""What the analysis tools, the benchmark and the tests use, one module
per tool (learning curves, schedules, pipeline steps, confusion matrices,
galleries, class activation maps), a FLOP count, mmpretrain's own
Inception V3 and tools as a reference, and pictures. Not needed to train
or evaluate."""
from .flops import count_flops, count_inference_flops
from .mmpretrain_reference import (build_mmpretrain_classifier,
                                   mmpretrain_inception_config_path,
                                   mmpretrain_tool)

__all__ = [
    'count_flops', 'count_inference_flops', 'build_mmpretrain_classifier',
    'mmpretrain_inception_config_path', 'mmpretrain_tool'
]
