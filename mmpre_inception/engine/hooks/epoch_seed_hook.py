"""Per-epoch random seeds, so a resumed run repeats an uninterrupted one."""
import random

import numpy as np
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook

from mmpre_inception.registry import HOOKS


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Seeds Python, numpy and torch at the start of every training epoch
    from the run's seed and the epoch number.

    mmengine checkpoints do not hold the random generators' states, so a
    run resumed after a crash would draw other crops, flips and dropout
    masks than the run it continues, and end elsewhere. Seeded per epoch,
    a run resumed from an epoch checkpoint draws exactly what the
    uninterrupted run drew (``tests/test_no_work_lost.py`` checks the
    final weights of a run killed and resumed).

    Args:
        diff_rank_seed (bool): Give every rank its own seeds (its own
            augmentation). Defaults to True.

    Example:
        >>> custom_hooks = [dict(type=EpochSeedHook)]
    """
    priority = 'HIGHEST'

    def __init__(self, diff_rank_seed: bool = True) -> None:
        self.diff_rank_seed = diff_rank_seed

    def before_train_epoch(self, runner) -> None:
        seed = (runner.seed * 1_000_003 + runner.epoch * 7919 +
                (get_rank() if self.diff_rank_seed else 0)) % 2**32
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
