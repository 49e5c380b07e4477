"""Config handling shared by ``tools/train.py`` and ``tools/test.py``."""
import datetime
import os
import os.path as osp
from typing import Optional

import torch
from mmengine.config import Config

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
        for key in cfg_options:
            check_option_key(cfg, key)
        cfg.merge_from_dict(cfg_options)
    return cfg


def check_option_key(cfg: Config, key: str) -> None:
    """Refuse a ``--cfg-options`` key that is probably a typo.

    A part of ``key`` may be new (``sync_bn=torch``, ``dataset.indices=100``,
    ``model.backbone.init_cfg.type=Pretrained``) unless it is one letter or
    so away from an existing key, which is a typo of it; below a new part
    everything is new.

    Args:
        cfg (Config): The config the option applies to.
        key (str): Dotted key, e.g. ``train_cfg.max_epochs``.

    Raises:
        ConfigError: Naming the key, the part not found and the closest
            existing name.
    """
    import difflib
    node = cfg._cfg_dict if isinstance(cfg, Config) else cfg
    parts = key.split('.')
    for depth, part in enumerate(parts):
        where = '.'.join(parts[:depth]) or 'the config'
        if isinstance(node, (list, tuple)):
            if not part.isdigit() or int(part) >= len(node):
                raise ConfigError(
                    f'--cfg-options {key}: {where} is a list of '
                    f'{len(node)}; {part!r} is not an index of it')
            node = node[int(part)]
            continue
        if node is None:
            return  # e.g. init_cfg=None: the option creates the dict
        if not isinstance(node, dict):
            raise ConfigError(f'--cfg-options {key}: {where} is a '
                              f'{type(node).__name__}, not a dict')
        if part in node:
            node = node[part]
            continue
        close = difflib.get_close_matches(part, [str(k) for k in node],
                                          n=1, cutoff=0.8)
        if not close:
            return  # a new key, and all below it
        hint = f" (did you mean '{close[0]}'?)" if close else ''
        raise ConfigError(f'--cfg-options {key}: {where} has no key '
                          f'{part!r}{hint}')


def adapt_to_machine(cfg: Config) -> Config:
    """Make a config run on this machine, whatever it was written for.

    * ``persistent_workers`` is turned off for data loaders with
      ``num_workers=0``, where PyTorch's DataLoader refuses it.
    * Without CUDA, distributed runs use the gloo backend instead of nccl,
      and wrap the model in ``CPUDistributedDataParallel``; ``sync_bn``
      there is an error (torch's SyncBatchNorm runs on GPUs only).

    Args:
        cfg (Config): Config to change in place.

    Returns:
        Config: The same config.

    Raises:
        ConfigError: The config asks for something this machine lacks.
    """
    for name in DATALOADERS:
        loader = cfg.get(name)
        if loader and loader.get('num_workers', 0) == 0:
            loader['persistent_workers'] = False
    distributed = cfg.get('launcher', 'none') != 'none'
    if distributed and cfg.get('sync_bn') and not torch.cuda.is_available():
        raise ConfigError(
            f"sync_bn={cfg.sync_bn!r} needs CUDA GPUs (torch's "
            'SyncBatchNorm has no CPU kernel); remove sync_bn to train '
            'with per-process BatchNorm on CPUs')
    if not torch.cuda.is_available():
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
        cfg.env_cfg.dist_cfg['backend'] = 'gloo'
        if distributed and cfg.get('model_wrapper_cfg') is None:
            # The Runner resolves the wrapper with Registry.get, which does
            # not search child scopes; a full import path always resolves.
            cfg.model_wrapper_cfg = dict(
                type='mmpre_inception.engine.CPUDistributedDataParallel',
                broadcast_buffers=False,
                find_unused_parameters=cfg.get('find_unused_parameters',
                                               False))
    return cfg


def init_cpu_distributed(launcher: str,
                         timeout_s: Optional[float] = None) -> None:
    """Start the gloo process group for a launch on machines without GPUs.

    mmengine's ``init_dist`` calls ``torch.cuda.set_device`` for the
    pytorch and slurm launchers, which fails on CPU-only machines. A
    process group started here makes the Runner skip its own
    initialisation. For slurm, the rendezvous comes from slurm's variables
    as mmengine reads them: rank ``SLURM_PROCID`` of ``SLURM_NTASKS``, the
    first host of ``SLURM_NODELIST`` as master, port ``MASTER_PORT``
    (default 29500).

    Args:
        launcher (str): ``--launcher`` value.
        timeout_s (float, optional): How long a collective operation waits
            for the other ranks (the config's ``env_cfg.dist_cfg.timeout``,
            seconds, as mmengine reads it). None keeps torch's default.
    """
    import torch.distributed as dist
    if launcher not in ('pytorch', 'slurm') or torch.cuda.is_available() \
            or dist.is_initialized():
        return
    if launcher == 'slurm':
        os.environ.update(
            RANK=os.environ['SLURM_PROCID'],
            WORLD_SIZE=os.environ['SLURM_NTASKS'],
            LOCAL_RANK=os.environ['SLURM_LOCALID'])
        os.environ.setdefault('MASTER_PORT', '29500')
        if 'MASTER_ADDR' not in os.environ:
            os.environ['MASTER_ADDR'] = first_slurm_host(
                os.environ['SLURM_NODELIST'])
    kwargs = {} if timeout_s is None else dict(
        timeout=datetime.timedelta(seconds=timeout_s))
    dist.init_process_group(backend='gloo', **kwargs)


def first_slurm_host(node_list: str) -> str:
    """The first host name of a slurm node list such as ``node[1-4]``."""
    import subprocess
    result = subprocess.run(['scontrol', 'show', 'hostnames', node_list],
                            capture_output=True, text=True, check=True)
    return result.stdout.split()[0]


def shutdown_distributed() -> None:
    """Destroy the process group, if any, before the interpreter exits.

    gloo aborts the process ("terminate called without an active
    exception") when the group is torn down implicitly at exit, and also,
    at random, when it is destroyed while a ``DistributedDataParallel``
    wrapper still holds it. Callers must drop their Runner first; the
    collection here frees the reference cycles a Runner leaves behind.
    """
    import gc

    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        gc.collect()
        dist.destroy_process_group()


def default_work_dir(config_path: str) -> str:
    """``./work_dirs/<config name>``, mmpretrain's default."""
    return osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])
