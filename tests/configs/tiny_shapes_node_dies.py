# tiny_shapes.py, where the node of rank 1 is lost at iteration 2: its
# torchrun agent is killed, and its rank must end with it
# (tests/test_distributed.py). Needs tests/helpers on PYTHONPATH.
from mmengine.config import read_base

with read_base():
    from .tiny_shapes import *

from rank_weights import KillRankAtIteration

custom_hooks = custom_hooks + [dict(type=KillRankAtIteration,
                                    launcher=True)]
