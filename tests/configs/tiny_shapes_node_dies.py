# tiny_shapes.py, where the node of rank 1 (its torchrun agent and its
# process) is killed at iteration 2 (tests/test_distributed.py). Needs
# tests/helpers on PYTHONPATH.
from mmengine.config import read_base

with read_base():
    from .tiny_shapes import *

from rank_weights import KillRankAtIteration

custom_hooks = custom_hooks + [dict(type=KillRankAtIteration,
                                    whole_node=True)]
