from .setup_config import (ConfigError, adapt_to_machine,
                           add_launcher_arguments, default_work_dir,
                           init_cpu_distributed, load_config, parse_tool_args,
                           shutdown_distributed)

__all__ = [
    'ConfigError', 'adapt_to_machine', 'add_launcher_arguments',
    'default_work_dir', 'init_cpu_distributed', 'load_config',
    'parse_tool_args', 'shutdown_distributed'
]
