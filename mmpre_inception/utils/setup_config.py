"""Config handling shared by ``tools/train.py`` and ``tools/test.py``."""
import os.path as osp
from typing import Optional

import torch
from mmengine.config import Config, DictAction  # noqa: F401 (re-export)

DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


class ConfigError(Exception):
    """A config file or option the user gave cannot be used."""


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Read ``path`` and merge ``--cfg-options`` into it.

    Args:
        path (str): Config file.
        cfg_options (dict, optional): ``key.sub=value`` overrides.

    Returns:
        Config: The merged config.

    Raises:
        ConfigError: The file is missing or cannot be parsed.
    """
    if not osp.isfile(path):
        raise ConfigError(f'config file not found: {path}')
    try:
        cfg = Config.fromfile(path)
    except Exception as error:  # mmengine raises many kinds on bad syntax
        raise ConfigError(f'cannot read config {path}: {error}') from error
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def adapt_to_machine(cfg: Config) -> Config:
    """Make a config run on this machine, whatever it was written for.

    * ``persistent_workers`` is turned off for data loaders with
      ``num_workers=0``, where PyTorch's DataLoader refuses it.
    * Without CUDA, distributed runs use the gloo backend instead of nccl.

    Args:
        cfg (Config): Config to change in place.

    Returns:
        Config: The same config.
    """
    for name in DATALOADERS:
        loader = cfg.get(name)
        if loader and loader.get('num_workers', 0) == 0:
            loader['persistent_workers'] = False
    if not torch.cuda.is_available():
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
        cfg.env_cfg.dist_cfg['backend'] = 'gloo'
    return cfg


def default_work_dir(config_path: str) -> str:
    """``./work_dirs/<config name>``, mmpretrain's default."""
    return osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])
