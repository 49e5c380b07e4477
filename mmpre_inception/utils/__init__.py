from .setup_config import (ConfigError, adapt_to_machine, default_work_dir,
                           init_cpu_distributed, load_config,
                           shutdown_distributed)

__all__ = ['ConfigError', 'adapt_to_machine', 'default_work_dir',
           'init_cpu_distributed', 'load_config', 'shutdown_distributed']
