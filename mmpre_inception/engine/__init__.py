from .cpu_distributed import CPUDistributedDataParallel
from .hooks import (AtomicCheckpointHook, EpochSeedHook, FoldBatchNormHook,
                    MMEngineSafeGlobalsHook, NonFiniteError,
                    NonFiniteLossError, NonFiniteLossHook,
                    NonFiniteScoresError, NonFiniteScoresHook, ProgressHook,
                    RankProgressHook, RGBVisualizationHook,
                    StopLoaderWorkersHook, TrainValEMAHook,
                    UnreadableImagesHook)
from .loops import (SkipEmptyBatchesTestLoop, SkipEmptyBatchesTrainLoop,
                    SkipEmptyBatchesValLoop)
from .optimizers import (AutocastOptimWrapper,
                         MergedGroupsOptimWrapperConstructor, RMSpropTF,
                         merge_param_groups)
from .runner import ConsoleSummaryRunner
from .skip_unreadable import enable_skip_unreadable
from .stalled_ranks import iterations_done, name_stalled_ranks
from .weight_average import MultiTensorEMA

__all__ = [
    'CPUDistributedDataParallel', 'AtomicCheckpointHook', 'EpochSeedHook',
    'FoldBatchNormHook', 'MMEngineSafeGlobalsHook', 'NonFiniteError',
    'NonFiniteLossError', 'NonFiniteScoresError', 'NonFiniteScoresHook',
    'RankProgressHook', 'iterations_done',
    'NonFiniteLossHook', 'ProgressHook', 'RGBVisualizationHook',
    'StopLoaderWorkersHook', 'TrainValEMAHook', 'UnreadableImagesHook',
    'name_stalled_ranks', 'SkipEmptyBatchesTestLoop',
    'SkipEmptyBatchesTrainLoop',
    'SkipEmptyBatchesValLoop', 'AutocastOptimWrapper',
    'MergedGroupsOptimWrapperConstructor', 'RMSpropTF', 'merge_param_groups',
    'MultiTensorEMA',
    'ConsoleSummaryRunner', 'enable_skip_unreadable'
]
