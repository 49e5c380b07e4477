from .setup_config import (ConfigError, adapt_to_machine, default_work_dir,
                           load_config)

__all__ = ['ConfigError', 'adapt_to_machine', 'default_work_dir',
           'load_config']
