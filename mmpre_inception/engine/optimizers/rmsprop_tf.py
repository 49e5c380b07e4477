"""TensorFlow's RMSProp, the paper's optimizer, as a multi-tensor step on
every device."""
import inspect
from typing import List

import torch
from timm.optim import RMSpropTF as TimmRMSpropTF

from mmpre_inception.registry import OPTIMIZERS

#: timm 1.0.30 added the multi-tensor path (``foreach``); older releases
#: step one parameter at a time.
TIMM_HAS_FOREACH = 'foreach' in inspect.signature(
    TimmRMSpropTF.__init__).parameters


@OPTIMIZERS.register_module()
class RMSpropTF(TimmRMSpropTF):
    """timm's ``RMSpropTF`` (TensorFlow's rule) whose step is a
    multi-tensor step on every device.

    timm computes TensorFlow's rule in two ways, one Python iteration per
    parameter or ``torch._foreach_*`` calls over a whole parameter group,
    and, like torch's own optimizers, picks the second only for CUDA
    tensors. Here it is always the second: a training step costs the same
    dozen or so calls per parameter group on a GPU and a CPU, so the count
    CI measures is the one a GPU launches (with the merged groups of
    :class:`MergedGroupsOptimWrapperConstructor`, two groups instead of
    one per parameter). timm before 1.0.30 has only the loop; with it this
    class runs its own multi-tensor step, the same arithmetic as timm's
    loop in the same order (``tests/test_training_step.py``). The state
    (``step``, ``square_avg``, ``momentum_buffer``) is timm's either way,
    so checkpoints move between timm versions and the two classes.

    ``torch.optim.RMSprop`` cannot serve, whatever its options, because
    TensorFlow's rule differs from it in three ways: epsilon is added
    inside the square root (``sqrt(ms + eps)``, not ``sqrt(ms) + eps``;
    with the paper's ``eps=1.0`` this is a different optimizer), the mean
    square starts at one instead of zero, and the learning rate is applied
    inside the momentum buffer (``mom = m * mom + lr * g / rms``), so a
    rate change takes effect gradually, not at once.

    Args:
        params: The parameters or parameter groups.
        *args: timm's ``RMSpropTF`` arguments (``lr``, ``alpha``, ``eps``,
            ``weight_decay``, ``momentum``, ``decoupled_decay``,
            ``lr_in_momentum``, ...).
        foreach (bool): Multi-tensor step. Defaults to True; False gives
            timm's per-parameter loop (to compare the two).
        **kwargs: As ``*args``.

    Example:
        >>> optim_wrapper = dict(optimizer=dict(
        ...     type=RMSpropTF, lr=0.045, alpha=0.9, eps=1.0, momentum=0.9,
        ...     weight_decay=4e-5))
    """

    # ``params`` by name: mmengine's constructor passes the parameter
    # groups under the name of the first argument.
    def __init__(self, params, *args, foreach: bool = True,
                 **kwargs) -> None:
        if TIMM_HAS_FOREACH:
            super().__init__(params, *args, foreach=foreach, **kwargs)
        else:
            super().__init__(params, *args, **kwargs)
        self.own_multi_tensor_step = foreach and not TIMM_HAS_FOREACH

    @torch.no_grad()
    def step(self, closure=None):
        if not self.own_multi_tensor_step:
            return super().step(closure)
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            if group['centered'] or group['caution'] or torch.is_tensor(
                    group['lr']):
                # Options the paper's recipe does not use: timm's loop.
                self._timm_step_of(group)
            else:
                self._multi_tensor_step(group)
        return loss

    def _timm_step_of(self, group: dict) -> None:
        groups = self.param_groups
        self.param_groups = [group]
        try:
            super().step()
        finally:
            self.param_groups = groups

    def _multi_tensor_step(self, group: dict) -> None:
        """timm 1.0.29's per-parameter arithmetic, over the group's
        parameters at once."""
        params: List[torch.Tensor] = [
            p for p in group['params'] if p.grad is not None]
        if not params:
            return
        if any(p.grad.is_sparse for p in params):
            raise RuntimeError('RMSprop does not support sparse gradients')
        states = [self.state[p] for p in params]
        for p, state in zip(params, states):
            if not state:
                state['step'] = torch.tensor(0.0)
                state['square_avg'] = torch.ones_like(p)
                if group['momentum'] > 0:
                    state['momentum_buffer'] = torch.zeros_like(p)
        lr, weight_decay = group['lr'], group['weight_decay']
        torch._foreach_add_([state['step'] for state in states], 1)
        grads = [p.grad for p in params]
        if weight_decay != 0:
            if group['decoupled_decay']:
                scale = lr ** 2 / self.defaults['lr'] if group.get(
                    'corrected_weight_decay') else lr
                torch._foreach_mul_(params, 1. - scale * weight_decay)
            else:
                grads = torch._foreach_add(grads, params, alpha=weight_decay)
        square_avgs = [state['square_avg'] for state in states]
        # square_avg += (1 - alpha) * (grad ** 2 - square_avg)
        difference = torch._foreach_pow(grads, 2)
        torch._foreach_sub_(difference, square_avgs)
        torch._foreach_add_(square_avgs, difference,
                            alpha=1. - group['alpha'])
        avg = torch._foreach_add(square_avgs, group['eps'])
        torch._foreach_sqrt_(avg)
        if group['momentum'] > 0:
            buffers = [state['momentum_buffer'] for state in states]
            torch._foreach_mul_(buffers, group['momentum'])
            if group['lr_in_momentum']:
                torch._foreach_addcdiv_(buffers, grads, avg, value=lr)
                torch._foreach_add_(params, buffers, alpha=-1)
            else:
                torch._foreach_addcdiv_(buffers, grads, avg)
                torch._foreach_add_(params, buffers, alpha=-lr)
        else:
            torch._foreach_addcdiv_(params, grads, avg, value=-lr)
