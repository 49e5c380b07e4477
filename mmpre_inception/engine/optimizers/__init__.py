from .autocast_optim_wrapper import AutocastOptimWrapper
from .merged_groups import (MergedGroupsOptimWrapperConstructor,
                            merge_param_groups)
from .rmsprop_tf import RMSpropTF

__all__ = [
    'AutocastOptimWrapper', 'MergedGroupsOptimWrapperConstructor',
    'merge_param_groups', 'RMSpropTF'
]
