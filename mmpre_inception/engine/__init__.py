from .atomic_files import (AtomicLocalBackend, use_atomic_local_files,
                           write_atomically)
from .checkpoint_safety import (allow_mmengine_checkpoint_types,
                                mmengine_checkpoint_globals)
from .cpu_distributed import CPUDistributedDataParallel
from .hooks import (EpochSeedHook, FoldBatchNormHook, NonFiniteLossError,
                    NonFiniteLossHook, ProgressHook, name_stalled_ranks,
                    RGBVisualizationHook, StopLoaderWorkersHook,
                    UnreadableImagesHook)
from .loops import SkipEmptyBatchesTestLoop, SkipEmptyBatchesValLoop
from .optimizers import AutocastOptimWrapper, RMSpropTF
from .runner import ConsoleSummaryRunner

__all__ = [
    'AtomicLocalBackend', 'use_atomic_local_files', 'write_atomically',
    'allow_mmengine_checkpoint_types', 'mmengine_checkpoint_globals',
    'CPUDistributedDataParallel', 'EpochSeedHook', 'FoldBatchNormHook', 'NonFiniteLossError',
    'NonFiniteLossHook', 'ProgressHook', 'name_stalled_ranks', 'RGBVisualizationHook', 'StopLoaderWorkersHook', 'UnreadableImagesHook', 'AutocastOptimWrapper',
    'RMSpropTF', 'ConsoleSummaryRunner', 'SkipEmptyBatchesTestLoop',
    'SkipEmptyBatchesValLoop'
]
