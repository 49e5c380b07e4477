"""Checkpoints: safe reading, mmpretrain's key layout, the fit check and
atomic saving; the one home every tool, converter and model uses."""
from .fit import check_state_dict_fits, load_checked_weights
from .layout import (AUX_CLASSIFIER_PREFIXES, MMPRETRAIN_TO_HEAD,
                     relocate_mmpretrain_keys)
from .reading import (CheckpointError, checkpoint_errors_named,
                      explain_load_failure, load_checkpoint_file,
                      name_checkpoint_file, read_weights, state_dict_of)
from .safe_globals import mmengine_checkpoint_globals
from .saving import (AtomicLocalBackend, save_checkpoint_atomically,
                     write_atomically)

__all__ = [
    'check_state_dict_fits', 'load_checked_weights',
    'AUX_CLASSIFIER_PREFIXES', 'MMPRETRAIN_TO_HEAD',
    'relocate_mmpretrain_keys', 'CheckpointError', 'checkpoint_errors_named',
    'explain_load_failure', 'load_checkpoint_file', 'name_checkpoint_file',
    'read_weights', 'state_dict_of', 'mmengine_checkpoint_globals',
    'AtomicLocalBackend',
    'save_checkpoint_atomically', 'write_atomically'
]
