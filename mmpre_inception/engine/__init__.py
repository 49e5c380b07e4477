from .cpu_distributed import CPUDistributedDataParallel
from .hooks import (AtomicCheckpointHook, EpochSeedHook, FoldBatchNormHook,
                    MMEngineSafeGlobalsHook, NonFiniteError,
                    NonFiniteLossError, NonFiniteLossHook,
                    NonFiniteScoresError, NonFiniteScoresHook, ProgressHook,
                    RGBVisualizationHook, StalledRankError,
                    StopLoaderWorkersHook, TrainValEMAHook,
                    UnreadableImagesHook, name_stalled_ranks)
from .loops import SkipEmptyBatchesTestLoop, SkipEmptyBatchesValLoop
from .optimizers import AutocastOptimWrapper
from .runner import ConsoleSummaryRunner
from .skip_unreadable import enable_skip_unreadable

__all__ = [
    'CPUDistributedDataParallel', 'AtomicCheckpointHook', 'EpochSeedHook',
    'FoldBatchNormHook', 'MMEngineSafeGlobalsHook', 'NonFiniteError',
    'NonFiniteLossError', 'NonFiniteScoresError', 'NonFiniteScoresHook',
    'StalledRankError',
    'NonFiniteLossHook', 'ProgressHook', 'RGBVisualizationHook',
    'StopLoaderWorkersHook', 'TrainValEMAHook', 'UnreadableImagesHook',
    'name_stalled_ranks', 'SkipEmptyBatchesTestLoop',
    'SkipEmptyBatchesValLoop', 'AutocastOptimWrapper',
    'ConsoleSummaryRunner', 'enable_skip_unreadable'
]
