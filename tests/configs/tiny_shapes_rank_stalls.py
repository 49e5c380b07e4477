# tiny_shapes.py, where rank 1 stops answering at iteration 2
# (tests/test_distributed.py). Needs tests/helpers on PYTHONPATH.
from mmengine.config import read_base

with read_base():
    from .tiny_shapes import *

from rank_weights import StallRankAtIteration

custom_hooks = custom_hooks + [dict(type=StallRankAtIteration)]
