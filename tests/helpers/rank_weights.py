"""A hook for tests/configs/tiny_shapes_ranks.py: every rank saves its own
parameters at the end of training (Runner checkpoints come from rank 0
only), so a test can compare ranks."""
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper


class SaveRankParameters(Hook):
    priority = 'LOWEST'

    def after_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        parameters = {name: value.detach().clone()
                      for name, value in model.named_parameters()}
        torch.save(
            dict(iter=runner.iter, parameters=parameters),
            osp.join(runner.work_dir,
                     f'rank{get_rank()}_iter{runner.iter}.pth'))


class KillRankAtIteration(Hook):
    """Kills rank ``rank`` with SIGKILL before iteration ``iteration``, as
    an out-of-memory killer would. With ``launcher`` the node's torchrun
    agent instead, as a lost node would, and the rank trains on: it must
    end by itself (``utils.end_with_launcher``), or it is left behind.
    With ``first_start_only`` only before any restart."""

    def __init__(self, rank: int = 1, iteration: int = 2,
                 launcher: bool = False,
                 first_start_only: bool = False) -> None:
        self.rank, self.iteration = rank, iteration
        self.launcher = launcher
        self.first_start_only = first_start_only

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        import os
        import signal
        import time
        if self.first_start_only and \
                os.environ.get('TORCHELASTIC_RESTART_COUNT', '0') != '0':
            return
        if get_rank() == self.rank and runner.iter + 1 == self.iteration:
            if self.launcher:  # the torchrun agent that started it
                os.kill(os.getppid(), signal.SIGKILL)
                time.sleep(120)  # ended by the kernel long before
            else:
                os.kill(os.getpid(), signal.SIGKILL)


class StallRankAtIteration(Hook):
    """Rank ``rank`` stops answering before iteration ``iteration`` (a hung
    data loader or a stuck file system), without dying."""

    def __init__(self, rank: int = 1, iteration: int = 2,
                 seconds: float = 600) -> None:
        self.rank, self.iteration, self.seconds = rank, iteration, seconds

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if get_rank() == self.rank and runner.iter + 1 == self.iteration:
            import time
            time.sleep(self.seconds)
