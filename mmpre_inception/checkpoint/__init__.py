"""Checkpoints: safe reading into one layout, mmpretrain's key layout, the
fit check and atomic saving; the one home every tool, converter, model and
the Runner use."""
from .fit import check_state_dict_fits, fit_checkpoint, load_checked_weights
from .layout import (AUX_CLASSIFIER_PREFIXES, MMPRETRAIN_TO_HEAD,
                     relocate_mmpretrain_keys)
from .reading import (WEIGHT_KEYS, CheckpointError, checkpoint_errors_named,
                      download_checkpoint, explain_load_failure,
                      load_checkpoint_file, name_checkpoint_file,
                      read_checkpoint, read_weights)
from .safe_globals import mmengine_checkpoint_globals, numpy_globals
from .saving import (AtomicLocalBackend, save_checkpoint_atomically,
                     write_atomically)

__all__ = [
    'check_state_dict_fits', 'fit_checkpoint', 'load_checked_weights',
    'AUX_CLASSIFIER_PREFIXES', 'MMPRETRAIN_TO_HEAD',
    'relocate_mmpretrain_keys', 'WEIGHT_KEYS', 'CheckpointError',
    'checkpoint_errors_named', 'download_checkpoint', 'explain_load_failure',
    'load_checkpoint_file', 'name_checkpoint_file', 'read_checkpoint',
    'read_weights', 'mmengine_checkpoint_globals', 'numpy_globals',
    'AtomicLocalBackend', 'save_checkpoint_atomically', 'write_atomically'
]
