from .cpu_distributed import CPUDistributedDataParallel
from .hooks import (AtomicCheckpointHook, EpochSeedHook, FoldBatchNormHook,
                    MMEngineSafeGlobalsHook, NonFiniteError,
                    NonFiniteLossError, NonFiniteLossHook,
                    NonFiniteScoresError, NonFiniteScoresHook, ProgressHook,
                    RGBVisualizationHook, StalledRankError,
                    StopLoaderWorkersHook, TrainValEMAHook,
                    UnreadableImagesHook, name_stalled_ranks)
from .loops import SkipEmptyBatchesTestLoop, SkipEmptyBatchesValLoop
from .optimizers import (AutocastOptimWrapper,
                         MergedGroupsOptimWrapperConstructor, RMSpropTF,
                         merge_param_groups)
from .runner import ConsoleSummaryRunner
from .skip_unreadable import enable_skip_unreadable
from .weight_average import MultiTensorEMA

__all__ = [
    'CPUDistributedDataParallel', 'AtomicCheckpointHook', 'EpochSeedHook',
    'FoldBatchNormHook', 'MMEngineSafeGlobalsHook', 'NonFiniteError',
    'NonFiniteLossError', 'NonFiniteScoresError', 'NonFiniteScoresHook',
    'StalledRankError',
    'NonFiniteLossHook', 'ProgressHook', 'RGBVisualizationHook',
    'StopLoaderWorkersHook', 'TrainValEMAHook', 'UnreadableImagesHook',
    'name_stalled_ranks', 'SkipEmptyBatchesTestLoop',
    'SkipEmptyBatchesValLoop', 'AutocastOptimWrapper',
    'MergedGroupsOptimWrapperConstructor', 'RMSpropTF', 'merge_param_groups',
    'MultiTensorEMA',
    'ConsoleSummaryRunner', 'enable_skip_unreadable'
]
