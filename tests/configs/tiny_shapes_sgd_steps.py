# tiny_shapes.py trained another way: SGD and a step schedule, to resume a
# tiny_shapes.py checkpoint with (tests/test_user_errors.py).
from mmengine.config import read_base

with read_base():
    from .tiny_shapes import *

optim_wrapper.optimizer = dict(type='SGD', lr=0.01, weight_decay=0.01)
param_scheduler = dict(type='StepLR', step_size=1, gamma=0.5, by_epoch=True)
