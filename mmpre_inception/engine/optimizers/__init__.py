from .autocast_optim_wrapper import AutocastOptimWrapper
from .rmsprop_tf import RMSpropTF

__all__ = ['AutocastOptimWrapper', 'RMSpropTF']
