from .checkpoint_safety import (allow_mmengine_checkpoint_types,
                                mmengine_checkpoint_globals)
from .cpu_distributed import CPUDistributedDataParallel
from .optimizers import AutocastOptimWrapper, RMSpropTF

__all__ = [
    'allow_mmengine_checkpoint_types', 'mmengine_checkpoint_globals',
    'CPUDistributedDataParallel', 'AutocastOptimWrapper', 'RMSpropTF'
]
