"""RMSProp as TensorFlow defines it, which the Inception V3 paper used."""
from typing import Callable, Iterable, Optional

import torch
from torch.optim import Optimizer

from mmpre_inception.registry import OPTIMIZERS


@OPTIMIZERS.register_module()
class RMSpropTF(Optimizer):
    """RMSProp with TensorFlow's update rule (``tf.train.RMSPropOptimizer``).

    The paper's ``epsilon = 1.0`` only means what it says under this rule:
    TensorFlow adds epsilon *inside* the square root and starts the
    mean-square accumulator at one, while ``torch.optim.RMSprop`` adds it
    outside and starts at zero, which with epsilon 1.0 is a different
    optimizer. The learning rate also sits inside the momentum buffer. For
    each parameter ``w`` with gradient ``g``::

        g   = g + weight_decay * w            # L2, as TF-slim's regularizer
        ms  = alpha * ms + (1 - alpha) * g^2  # ms starts at 1
        mom = momentum * mom + lr * g / sqrt(ms + eps)
        w   = w - mom

    Args:
        params (iterable): Parameters or parameter groups.
        lr (float): Learning rate. Defaults to 0.045 (the paper's).
        alpha (float): Decay of the mean square ("decay" in TF).
            Defaults to 0.9.
        eps (float): Added to the mean square inside the root.
            Defaults to 1.0.
        momentum (float): Momentum. Defaults to 0.9.
        weight_decay (float): L2 coefficient added to the gradient.
            Defaults to 0.

    Example:
        >>> model = torch.nn.Linear(4, 2)
        >>> optimizer = RMSpropTF(model.parameters(), lr=0.045)
        >>> model(torch.ones(1, 4)).sum().backward()
        >>> optimizer.step()
    """

    def __init__(self,
                 params: Iterable,
                 lr: float = 0.045,
                 alpha: float = 0.9,
                 eps: float = 1.0,
                 momentum: float = 0.9,
                 weight_decay: float = 0.0) -> None:
        for name, value in dict(lr=lr, eps=eps, momentum=momentum,
                                weight_decay=weight_decay).items():
            if value < 0:
                raise ValueError(f'RMSpropTF: {name} must be >= 0, '
                                 f'got {value}')
        if not 0.0 <= alpha < 1.0:
            raise ValueError(f'RMSpropTF: alpha must be in [0, 1), got '
                             f'{alpha}')
        super().__init__(
            params,
            dict(lr=lr, alpha=alpha, eps=eps, momentum=momentum,
                 weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure: Optional[Callable] = None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for param in group['params']:
                if param.grad is None:
                    continue
                grad = param.grad
                if grad.is_sparse:
                    raise RuntimeError('RMSpropTF does not take sparse '
                                       'gradients')
                if group['weight_decay']:
                    grad = grad.add(param, alpha=group['weight_decay'])
                state = self.state[param]
                if not state:
                    state['square_avg'] = torch.ones_like(param)
                    state['momentum_buffer'] = torch.zeros_like(param)
                square_avg = state['square_avg']
                square_avg.mul_(group['alpha']).addcmul_(
                    grad, grad, value=1 - group['alpha'])
                step = grad / (square_avg + group['eps']).sqrt_()
                buffer = state['momentum_buffer']
                buffer.mul_(group['momentum']).add_(step, alpha=group['lr'])
                param.sub_(buffer)
        return loss
