"""Inception V3 for the mmengine / mmpretrain ecosystem."""
from .engine import allow_mmengine_checkpoint_types
from .version import __version__

# Runner checkpoints must load under torch's weights_only=True (--resume).
allow_mmengine_checkpoint_types()

__all__ = ['__version__']
