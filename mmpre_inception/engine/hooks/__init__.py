from .epoch_seed_hook import EpochSeedHook
from .nonfinite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .unreadable_images_hook import UnreadableImagesHook

__all__ = [
    'EpochSeedHook', 'NonFiniteLossError', 'NonFiniteLossHook',
    'UnreadableImagesHook'
]
