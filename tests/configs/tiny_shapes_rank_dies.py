# tiny_shapes.py, where rank 1 is killed at iteration 2
# (tests/test_no_work_lost.py). Needs tests/helpers on PYTHONPATH.
from mmengine.config import read_base

with read_base():
    from .tiny_shapes import *

from rank_weights import KillRankAtIteration

custom_hooks = custom_hooks + [dict(type=KillRankAtIteration)]
