"""Reading a config and the ``--cfg-options`` a user gives with it."""
import contextlib
import difflib
import importlib.util
import os.path as osp
from typing import Iterator, Optional, Tuple

import torch
from mmengine.config import Config

from mmpre_inception.errors import ConfigError

from .distributed import (auto_num_workers, cpus_for_this_process,
                          ranks_on_this_node)

DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


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
        with packages_found_where_they_import():
            cfg = Config.fromfile(path)
    except Exception as error:  # mmengine raises many kinds on bad syntax
        raise ConfigError(f'cannot read config {path}: {error}') from error
    if cfg_options:
        for key, value in cfg_options.items():
            check_option_key(cfg, key)
            check_option_value(cfg, key, value)
        cfg.merge_from_dict(cfg_options)
    return cfg


#: Keys that count something of which a run needs at least one.
_POSITIVE_COUNTS = ('batch_size', 'max_epochs', 'max_iters', 'num_classes',
                    'val_interval', 'interval', 'max_keep_ckpts')


def _current_value(cfg: Config, key: str):
    node = cfg._cfg_dict if isinstance(cfg, Config) else cfg
    for part in key.split('.'):
        if isinstance(node, (list, tuple)) and part.isdigit() and \
                int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def _is_integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_option_value(cfg: Config, key: str, value) -> None:
    """Refuse a ``--cfg-options`` value of the wrong type for the key it
    replaces (``max_epochs=abc``, ``batch_size=2.5``), or a count below 1
    (``batch_size=0``), before anything is built from it.

    Args:
        cfg (Config): The config the option applies to.
        key (str): Dotted key, e.g. ``train_cfg.max_epochs``.
        value: The value mmengine's ``DictAction`` parsed.

    Raises:
        ConfigError: Naming the key, the value and the type it needs.

    Example:
        >>> check_option_value(Config(dict(a=dict(n=3))), 'a.n', 'x')
        Traceback (most recent call last):
        ...
        mmpre_inception.utils.config.ConfigError: --cfg-options a.n='x': \
needs an integer (the config has 3)
    """
    current = _current_value(cfg, key)
    needs = None
    if isinstance(current, bool):
        needs = None if isinstance(value, bool) else 'True or False'
    elif _is_integer(current):
        needs = None if _is_integer(value) else 'an integer'
    elif isinstance(current, float):
        needs = None if _is_integer(value) or isinstance(
            value, float) else 'a number'
    if needs:
        raise ConfigError(f'--cfg-options {key}={value!r}: needs {needs} '
                          f'(the config has {current!r})')
    if key.rsplit('.', 1)[-1] in _POSITIVE_COUNTS and _is_integer(
            value) and value < 1:
        raise ConfigError(f'--cfg-options {key}={value}: needs an integer '
                          'of at least 1')


@contextlib.contextmanager
def packages_found_where_they_import() -> Iterator[None]:
    """While a config is read, mmengine finds the files of ``read_base()``'s
    absolute imports (``from mmpre_inception.configs... import *`` in a
    project elsewhere) where the package imports from.

    mmengine 0.10.7's ``get_installed_path`` looks for a package's files
    next to its recorded metadata. A PEP 660 editable install (``pip
    install -e .``, every mode of setuptools') records site-packages while
    the files stay in the checkout, so a project's config would not find
    ours. mmengine's main branch looks where the package imports from
    first; 0.10.7, the latest release, does not. mmpretrain's tools and mim
    read configs without this (docs/training.md).
    """
    import mmengine.config.config as mmengine_config
    recorded = mmengine_config.get_installed_path

    def installed_path(package: str) -> str:
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.origin is not None:
            return osp.dirname(spec.origin)
        return recorded(package)

    mmengine_config.get_installed_path = installed_path
    try:
        yield
    finally:
        mmengine_config.get_installed_path = recorded


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


def check_file_exists(path: str, what: str) -> None:
    """Refuse a file named on the command line or in a config that is not
    there (a URL is fetched later, by its reader).

    Raises:
        ConfigError: ``'{what} file not found: {path}'``.
    """
    if '://' not in str(path) and not osp.isfile(path):
        if osp.isdir(path):
            raise ConfigError(f'{what} {path} is a directory; give a file in '
                              'it')
        raise ConfigError(f'{what} file not found: {path}')


def default_work_dir(config_path: str) -> str:
    """``./work_dirs/<config name>``, mmpretrain's default."""
    return osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])


def check_config_runs_here(cfg: Config) -> None:
    """Refuse, before the run, what the config asks for and this machine
    or PyTorch cannot do; the config itself is not changed.

    Args:
        cfg (Config): The merged config (``launcher`` set).

    Raises:
        ConfigError: Naming the key at fault and what to set instead.
    """
    for name in DATALOADERS:
        loader = cfg.get(name)
        if loader:
            resolve_auto_workers(name, loader)  # a value it cannot use
        if loader and loader.get('persistent_workers') and \
                loader.get('num_workers', 0) == 0:
            raise ConfigError(
                f'{name}.persistent_workers=True needs worker processes '
                f'but {name}.num_workers is 0: also set '
                f'{name}.persistent_workers=False')
    distributed = cfg.get('launcher', 'none') != 'none'
    if distributed and cfg.get('sync_bn') and not torch.cuda.is_available():
        raise ConfigError(
            f"sync_bn={cfg.sync_bn!r} needs CUDA GPUs (torch's "
            'SyncBatchNorm has no CPU kernel); remove sync_bn to train '
            'with per-process BatchNorm on CPUs')


AUTO_WORKERS = 'auto'


def resolve_auto_workers(name: str,
                         loader: dict) -> Tuple[dict, Optional[str]]:
    """A data loader config with ``num_workers='auto'`` replaced by
    :func:`auto_num_workers` for this machine.

    Args:
        name (str): The loader's key, for messages (``train_dataloader``).
        loader (dict): Its config; not changed.

    Returns:
        tuple[dict, str | None]: The loader to build (``loader`` itself
        when its ``num_workers`` is a number) and, when ``'auto'`` was
        resolved, a line saying to what and why.

    Raises:
        ConfigError: ``num_workers`` is neither a count nor ``'auto'``.

    Example:
        >>> loader, line = resolve_auto_workers(
        ...     'val_dataloader', dict(num_workers='auto', batch_size=32))
        >>> loader['num_workers'] >= 1
        True
    """
    workers = loader.get('num_workers', 0)
    if isinstance(workers, int) and not isinstance(workers, bool) \
            and workers >= 0:
        return loader, None
    if workers != AUTO_WORKERS:
        raise ConfigError(
            f'{name}.num_workers={workers!r}: use a number of worker '
            "processes (0 loads in the main process) or "
            f"'{AUTO_WORKERS}' to choose from this machine's CPUs")
    resolved = auto_num_workers()
    line = (f"{name}.num_workers='{AUTO_WORKERS}': {resolved} per rank "
            f'({cpus_for_this_process()} CPUs for {ranks_on_this_node()} '
            'rank(s) on this machine)')
    return {**loader, 'num_workers': resolved}, line
