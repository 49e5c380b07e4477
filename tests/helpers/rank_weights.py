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
    an out-of-memory killer would; with ``whole_node`` the node's torchrun
    agent first, as a lost node would."""

    def __init__(self, rank: int = 1, iteration: int = 2,
                 whole_node: bool = False) -> None:
        self.rank, self.iteration = rank, iteration
        self.whole_node = whole_node

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if get_rank() == self.rank and runner.iter + 1 == self.iteration:
            import os
            import signal
            if self.whole_node:  # the torchrun agent that started it
                os.kill(os.getppid(), signal.SIGKILL)
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
