# tiny_shapes_ranks.py, where rank 1 is killed at the first iteration of
# epoch 2, after epoch 1's checkpoint, in the first start only: a restart
# (MAX_RESTARTS) resumes and finishes (tests/test_distributed.py). Needs
# tests/helpers on PYTHONPATH.
from mmengine.config import read_base

with read_base():
    from .tiny_shapes_ranks import *

from rank_weights import KillRankAtIteration

custom_hooks = custom_hooks + [dict(type=KillRankAtIteration, iteration=4,
                                    first_start_only=True)]
