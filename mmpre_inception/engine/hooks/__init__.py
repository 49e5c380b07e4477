from .checkpoint_hooks import (AtomicCheckpointHook, MMEngineSafeGlobalsHook,
                               TrainValEMAHook)
from .epoch_seed_hook import EpochSeedHook
from .fold_batchnorm_hook import FoldBatchNormHook
from .nonfinite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .progress_hook import ProgressHook, name_stalled_ranks
from .rgb_visualization_hook import RGBVisualizationHook
from .stop_loader_workers_hook import StopLoaderWorkersHook
from .unreadable_images_hook import UnreadableImagesHook

__all__ = [
    'AtomicCheckpointHook', 'MMEngineSafeGlobalsHook', 'TrainValEMAHook',
    'EpochSeedHook', 'FoldBatchNormHook', 'NonFiniteLossError',
    'NonFiniteLossHook', 'ProgressHook', 'name_stalled_ranks',
    'RGBVisualizationHook', 'StopLoaderWorkersHook', 'UnreadableImagesHook'
]
