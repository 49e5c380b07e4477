from .checkpoint_hooks import (AtomicCheckpointHook, MMEngineSafeGlobalsHook,
                               TrainValEMAHook)
from .epoch_seed_hook import EpochSeedHook
from .fold_batchnorm_hook import FoldBatchNormHook
from .nonfinite_loss_hook import (NonFiniteError, NonFiniteLossError,
                                  NonFiniteLossHook)
from .nonfinite_scores_hook import NonFiniteScoresError, NonFiniteScoresHook
from .progress_hook import ProgressHook, StalledRankError, name_stalled_ranks
from .rgb_visualization_hook import RGBVisualizationHook
from .stop_loader_workers_hook import StopLoaderWorkersHook
from .unreadable_images_hook import UnreadableImagesHook

__all__ = [
    'AtomicCheckpointHook', 'MMEngineSafeGlobalsHook', 'TrainValEMAHook',
    'EpochSeedHook', 'FoldBatchNormHook', 'NonFiniteError',
    'NonFiniteLossError',
    'NonFiniteLossHook', 'NonFiniteScoresError', 'NonFiniteScoresHook',
    'ProgressHook', 'StalledRankError', 'name_stalled_ranks',
    'RGBVisualizationHook', 'StopLoaderWorkersHook', 'UnreadableImagesHook'
]
