"""Training runs, as ``tools/train.py`` runs them."""
from typing import Optional

from mmengine.config import Config

from mmpre_inception.datasets import check_config_annotations
from mmpre_inception.engine import enable_skip_unreadable
from mmpre_inception.utils import (ConfigError, check_config_runs_here,
                                   check_file_exists, latest_checkpoint,
                                   lock_work_dir)

from .evaluation import build_runner, check_writable


def set_mixed_precision(optim_wrapper: dict,
                        dtype: Optional[str] = None) -> None:
    """Switch ``optim_wrapper`` to autocast training in place.

    On a GPU: mmengine's ``AmpOptimWrapper`` (float16 with dynamic loss
    scaling, or bfloat16). On a CPU, where that wrapper refuses to run and
    autocast has only bfloat16: our ``AutocastOptimWrapper``.

    Raises:
        ConfigError: float16 asked for on a machine without a GPU.
    """
    import torch
    if torch.cuda.is_available():
        optim_wrapper.type = 'AmpOptimWrapper'
        optim_wrapper.setdefault('loss_scale', 'dynamic')
        if dtype:
            optim_wrapper.dtype = dtype
    elif dtype == 'float16':
        raise ConfigError('--amp-dtype float16 needs a CUDA GPU; on a CPU '
                          'use bfloat16 (the default there)')
    else:
        optim_wrapper.type = 'mmpre_inception.engine.AutocastOptimWrapper'
        optim_wrapper.dtype = 'bfloat16'


def resume_from(cfg: Config, checkpoint: Optional[str]) -> None:
    """Set ``resume`` and ``load_from`` for ``--resume [CHECKPOINT]``: the
    file given, or without one the newest complete checkpoint in the work
    dir (mmengine would trust ``last_checkpoint`` alone, and an empty one
    makes it start from scratch).

    Raises:
        ConfigError: The file given does not exist.
    """
    if checkpoint in (None, 'auto'):
        cfg.resume, cfg.load_from = True, latest_checkpoint(cfg.work_dir)
    else:
        check_file_exists(checkpoint, '--resume checkpoint')
        cfg.resume, cfg.load_from = True, checkpoint


def prepare_train_config(cfg: Config, skip_unreadable: bool = False):
    """The config of a training run, checked against this machine, its
    annotation files and its work dir, which it then holds (one run per
    work dir).

    Returns:
        object: The work dir's lock; keep it for the run.

    Raises:
        ConfigError, AnnotationError: Naming the key, file or folder.
    """
    if skip_unreadable:
        enable_skip_unreadable(cfg)
    check_config_runs_here(cfg)
    if cfg.get('load_from') and not cfg.get('resume'):
        check_file_exists(cfg.load_from, 'load_from')
    check_writable(cfg.work_dir, f'--work-dir {cfg.work_dir}')
    check_config_annotations(cfg, ('train_dataloader', 'val_dataloader'),
                             missing_images_ok=skip_unreadable)
    return lock_work_dir(cfg.work_dir)


def train(cfg: Config) -> None:
    """Build the Runner and train; the Runner (and its DDP wrapper) is
    released on return, before the process group may be destroyed."""
    build_runner(cfg).train()
