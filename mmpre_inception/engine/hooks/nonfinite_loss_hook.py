"""Stop (or skip the update) on a NaN or infinite loss, before it lands."""
import torch
import torch.distributed as dist
from mmengine.dist import is_distributed
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmpre_inception.errors import (NonFiniteError,  # noqa: F401
                                    NonFiniteLossError)
from mmpre_inception.registry import HOOKS


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Checks the loss before every optimizer update.

    A NaN or infinite loss would turn every weight it touches into NaN,
    and then the weight average and the next checkpoints. This hook wraps
    ``optim_wrapper.update_params`` so the check happens before the
    backward pass and the step: nothing is updated (BatchNorm statistics
    the forward pass changed are put back), and then either
    training stops with :class:`NonFiniteLossError` naming the iteration
    (``action='raise'``), or the step is skipped and logged
    (``action='skip'``). In distributed runs the ranks agree first, so all
    of them stop or skip together.

    Args:
        action (str): ``'raise'`` (default) or ``'skip'``.

    Example:
        >>> default_hooks = dict(nonfinite_loss=dict(
        ...     type=NonFiniteLossHook, action='skip'))
    """
    priority = 'VERY_HIGH'

    def __init__(self, action: str = 'raise') -> None:
        if action not in ('raise', 'skip'):
            raise ValueError(f"NonFiniteLossHook: action must be 'raise' "
                             f"or 'skip', got {action!r}")
        self.action = action
        self.skipped = 0
        self._saved: list = []

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        # The forward pass updates BatchNorm's running statistics before
        # the loss is known; a bad step must not keep them (NaN
        # activations would poison them for good). They are small, and
        # one multi-tensor copy saves them all.
        buffers = list(runner.model.buffers())
        if [b.shape for b in self._saved] != [b.shape for b in buffers]:
            self._saved = [torch.empty_like(b) for b in buffers]
        if buffers:
            torch._foreach_copy_(self._saved, buffers)

    def _restore_buffers(self, runner) -> None:
        buffers = list(runner.model.buffers())
        if buffers:
            torch._foreach_copy_(buffers, self._saved)

    def before_train(self, runner) -> None:
        optim_wrapper = runner.optim_wrapper
        update_params = optim_wrapper.update_params

        def checked_update_params(loss: torch.Tensor, *args, **kwargs):
            if self._all_finite(loss):
                return update_params(loss, *args, **kwargs)
            where = (f'iteration {runner.iter + 1} (epoch {runner.epoch + 1})'
                     if runner.train_loop is not None else 'this iteration')
            value = loss.detach().float().cpu().item()
            self._restore_buffers(runner)
            if self.action == 'raise':
                raise NonFiniteLossError(
                    f'loss is {value} at {where}; training stopped before '
                    'the update, so the weights, the weight average and the '
                    'saved checkpoints are from before it. Lower the '
                    'learning rate or check the data, or set '
                    "default_hooks.nonfinite_loss.action='skip'.")
            self.skipped += 1
            optim_wrapper.zero_grad()
            print_log(f'loss is {value} at {where}: update skipped '
                      f'({self.skipped} so far)', logger='current',
                      level=30)

        optim_wrapper.update_params = checked_update_params

    @staticmethod
    def _all_finite(loss: torch.Tensor) -> bool:
        # The one host read of the step that the step needs: whether to
        # update (docs/benchmark.md lists the reads mmengine adds).
        finite = torch.isfinite(loss.detach()).all().float().reshape(1)
        if is_distributed():
            if dist.get_backend() == 'nccl':
                finite = finite.cuda()
            dist.all_reduce(finite, op=dist.ReduceOp.MIN)
        return bool(finite.item() == 1.0)
