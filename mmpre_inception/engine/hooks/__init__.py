from .atomic_checkpoint_hook import AtomicCheckpointHook
from .epoch_seed_hook import EpochSeedHook
from .fold_batchnorm_hook import FoldBatchNormHook
from .nonfinite_loss_hook import (NonFiniteError, NonFiniteLossError,
                                  NonFiniteLossHook)
from .nonfinite_scores_hook import NonFiniteScoresError, NonFiniteScoresHook
from .progress_hook import ProgressHook
from .rank_progress_hook import RankProgressHook
from .rgb_visualization_hook import RGBVisualizationHook
from .safe_globals_hook import MMEngineSafeGlobalsHook
from .stop_loader_workers_hook import StopLoaderWorkersHook
from .train_val_ema_hook import TrainValEMAHook
from .unreadable_images_hook import UnreadableImagesHook

__all__ = [
    'AtomicCheckpointHook', 'MMEngineSafeGlobalsHook', 'TrainValEMAHook',
    'EpochSeedHook', 'FoldBatchNormHook', 'NonFiniteError',
    'NonFiniteLossError',
    'NonFiniteLossHook', 'NonFiniteScoresError', 'NonFiniteScoresHook',
    'ProgressHook', 'RankProgressHook',
    'RGBVisualizationHook', 'StopLoaderWorkersHook', 'UnreadableImagesHook'
]
