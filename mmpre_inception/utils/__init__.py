"""The floor every layer may use: config reading, the work dir, the CPU
process group and error messages. Nothing here imports the rest of
mmpre_inception."""
from .config import (ConfigError, check_config_runs_here, check_file_exists,
                     check_option_key, default_work_dir, load_config,
                     resolve_auto_workers)
from .distributed import (auto_num_workers, end_with_launcher,
                          init_cpu_distributed, restart_count,
                          shutdown_distributed)
from .messages import one_line_message, silence_known_warnings
from .work_dir import latest_checkpoint, lock_work_dir

__all__ = [
    'ConfigError', 'check_config_runs_here', 'check_file_exists',
    'check_option_key',
    'default_work_dir', 'load_config', 'resolve_auto_workers',
    'auto_num_workers',
    'init_cpu_distributed', 'end_with_launcher', 'restart_count',
    'shutdown_distributed', 'one_line_message',
    'silence_known_warnings', 'latest_checkpoint',
    'lock_work_dir'
]
