from .checkpoints import (INFERENCE_OPTIONAL, CheckpointError,
                          check_state_dict_matches, load_checked_weights,
                          load_checkpoint_file, state_dict_of)
from .mmpretrain_reference import (build_mmpretrain_classifier,
                                   mmpretrain_inception_config_path)
from .data_options import (check_annotations, enable_skip_unreadable,
                           one_line)
from .work_dir import latest_checkpoint, lock_work_dir
from .setup_config import (ConfigError, adapt_to_machine, check_option_key,
                           default_work_dir, init_cpu_distributed,
                           load_config, shutdown_distributed)

__all__ = [
    'INFERENCE_OPTIONAL', 'CheckpointError', 'check_state_dict_matches',
    'load_checked_weights', 'load_checkpoint_file', 'state_dict_of',
    'check_annotations', 'enable_skip_unreadable', 'one_line', 'ConfigError',
    'adapt_to_machine', 'check_option_key', 'default_work_dir',
    'init_cpu_distributed', 'load_config', 'shutdown_distributed',
    'build_mmpretrain_classifier', 'mmpretrain_inception_config_path',
    'latest_checkpoint', 'lock_work_dir'
]
