"""Inception V3 for the mmengine / mmcv / mmpretrain ecosystem."""
import warnings

# mmcv-lite has no compiled ops, and mmpretrain imports a transformer module
# that warns about it on every run; Inception V3 never uses that op.
warnings.filterwarnings(
    'ignore', message='Fail to import ``MultiScaleDeformableAttention``')

from .engine import (allow_mmengine_checkpoint_types,  # noqa: E402
                     use_atomic_local_files)
from .version import __version__  # noqa: E402

# Runner checkpoints must load under torch's weights_only=True (--resume).
allow_mmengine_checkpoint_types()
# A crash while saving must not leave a truncated checkpoint.
use_atomic_local_files()

__all__ = ['__version__']
