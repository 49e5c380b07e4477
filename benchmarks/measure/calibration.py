"""Random Inception V3 weights that behave like trained ones, for
comparing two ways of computing the same thing (the benchmark's stand-in
checkpoint, the numeric tests).

A randomly initialised Inception V3 whose BatchNorm statistics are not
those of its inputs grows its activations layer after layer, to logits
near 1e8..1e11, and saturates the softmax: "the scores agree within 1e-4"
would then say nothing, and two correct kernels that merely sum in
another order differ by more than any tolerance that would still catch a
bug.
"""
from typing import Callable, Optional

import torch
from torch import nn
from torch.optim.swa_utils import update_bn


@torch.no_grad()
def calibrate(model: nn.Module,
              inputs: torch.Tensor,
              classifier: nn.Linear,
              logit_std: float = 5.0,
              forward: Optional[Callable] = None,
              chunk: int = 8,
              batchnorm_bias: Optional[float] = 1.0) -> torch.Tensor:
    """Make a random network well conditioned, in place: BatchNorm
    statistics measured on ``inputs`` (BatchNorm recalibration, torch's
    ``update_bn``), BatchNorm biases ``batchnorm_bias`` and logits with
    std ``logit_std``, as a trained network's.

    With BatchNorm biases of 0, half of each layer's units are cut by the
    ReLU and a random Inception V3 is chaotic, doubling float32 rounding
    errors every block (1e-4 relative at the logits, 50% in bfloat16);
    with biases of 1 they stay near 3e-6, as in a trained network.

    Args:
        model (nn.Module): The network (left in eval mode).
        inputs (Tensor): Images the statistics are measured on.
        classifier (nn.Linear): The layer that produces the logits.
        logit_std (float): Spread of the logits on ``inputs``.
        forward (Callable, optional): ``forward(inputs) -> logits``;
            defaults to ``model(inputs)``.
        chunk (int): Images per statistics batch.
        batchnorm_bias (float, optional): Every BatchNorm's bias (shift
            after normalisation); None keeps the initialisation's.

    Returns:
        Tensor: The logits on ``inputs`` afterwards.

    Example:
        >>> calibrate(model, images, model.head.fc)  # doctest: +SKIP
    """
    forward = forward or model
    if batchnorm_bias is not None:
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.bias.fill_(batchnorm_bias)
    update_bn(list(inputs.split(chunk)), model)
    model.eval()

    def logits():
        out = forward(inputs)
        return out[-1] if isinstance(out, (tuple, list)) else out

    spread = (logits() - classifier.bias).std()
    classifier.weight.mul_(logit_std / spread)
    classifier.bias.zero_()
    return logits()
