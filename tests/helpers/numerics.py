"""Well-conditioned random networks, and tolerances derived from float32
rounding, for tests that compare two ways of computing the same thing.

Why: a randomly initialised Inception V3 whose BatchNorm statistics are
not those of its inputs grows its activations layer after layer, to logits
near 1e8..1e11. Two correct kernels that merely sum in another order (AVX2
against AVX-512, NCHW against channels-last) then differ by more than any
fixed tolerance that would still catch a bug, and a tolerance tuned on one
CPU fails on the next. So:

* ``calibrate`` (``benchmarks/measure/calibration.py``) measures every
  BatchNorm's statistics on the inputs, gives every BatchNorm a bias of 1
  and scales the classifier to logits of a chosen spread (order 10, as a
  trained network's). And
* :func:`assert_within_rounding` bounds the difference of two float32
  results by the reference's own distance from a float64 computation, so
  the tolerance is the rounding of this machine's kernels, never a number
  tuned until one machine passes.
"""
import copy
from typing import Dict

import torch
from torch import nn

from measure.calibration import calibrate  # noqa: F401

FLOAT32_EPS = torch.finfo(torch.float32).eps
BFLOAT16_EPS = torch.finfo(torch.bfloat16).eps
# Two float32 kernels each differ from the exact result by about the
# reference's rounding error δ, so they differ from each other by at most
# 2δ (triangle inequality); another CPU's kernels (other blocking, other
# vector width) can round up to twice as badly again: 4δ.
KERNEL_FACTOR = 4.0


def relative_error(got: torch.Tensor, expected: torch.Tensor) -> float:
    """``‖got - expected‖ / ‖expected‖`` in float64."""
    expected = expected.double()
    return ((got.double() - expected).norm() / expected.norm()).item()


def rounding_tolerance(reference: torch.Tensor,
                       exact: torch.Tensor) -> float:
    """The relative error allowed between ``reference`` and another
    float32 computation of the same value: :data:`KERNEL_FACTOR` times the
    reference's distance from ``exact`` (its float64 computation), and
    never less than a few float32 epsilons."""
    return KERNEL_FACTOR * max(relative_error(reference, exact),
                               FLOAT32_EPS)


def assert_within_rounding(got: torch.Tensor, reference: torch.Tensor,
                           exact: torch.Tensor, what: str = '') -> None:
    """Assert that ``got`` equals ``reference`` up to float32 rounding.

    Args:
        got (Tensor): The result under test.
        reference (Tensor): The same value computed the trusted way, in
            float32.
        exact (Tensor): The trusted way in float64.
        what (str): Named in the failure message.
    """
    error = relative_error(got, reference)
    tolerance = rounding_tolerance(reference, exact)
    assert error <= tolerance, (
        f'{what}: relative error {error:.3g} exceeds {tolerance:.3g} '
        f'({KERNEL_FACTOR:g}x the float32 reference\'s own distance from '
        f'float64, {relative_error(reference, exact):.3g})')


def assert_loss_within_rounding(got: torch.Tensor,
                                reference: torch.Tensor,
                                exact: torch.Tensor,
                                reference_logits: torch.Tensor,
                                exact_logits: torch.Tensor,
                                weight: float = 1.0,
                                what: str = 'loss') -> None:
    """Assert that a cross-entropy loss (label smoothing allowed) equals
    ``reference`` up to the rounding of the logits it is computed from.

    One scalar's own rounding error can be near zero by chance, so the
    bound comes from the logits: ``|dL| <= weight * ||p - q|| * ||dz||``
    and ``||p - q|| <= sqrt(2)`` for probabilities ``p`` and targets
    ``q``; the logits' error is bounded as in :func:`rounding_tolerance`.

    Args:
        got, reference, exact (Tensor): The loss under test, in float32
            the trusted way, and in float64.
        reference_logits, exact_logits (Tensor): The logits of the
            reference, in float32 and float64.
        weight (float): The loss weight the cross-entropy is scaled by.
        what (str): Named in the failure message.
    """
    logits_error = rounding_tolerance(reference_logits, exact_logits) * \
        exact_logits.double().norm().item()
    tolerance = weight * 2**0.5 * logits_error / abs(exact.item())
    error = relative_error(got, reference)
    assert error <= tolerance, (
        f'{what}: relative error {error:.3g} exceeds {tolerance:.3g}, the '
        'bound from the rounding of its logits')


def assert_as_exact_as(got: Dict[str, torch.Tensor],
                       reference: Dict[str, torch.Tensor],
                       exact: Dict[str, torch.Tensor]) -> None:
    """Assert that the tensors ``got`` (gradients, updates) are as close to
    their float64 values ``exact`` as the float32 ``reference`` is, up to
    :data:`KERNEL_FACTOR`, measured by the worst tensor of each.

    Per tensor, two kernels' rounding errors are independent and their
    ratio varies widely; the worst tensor of each set is a stable measure,
    and a wrong tensor (error of order 1) still fails it. Tensors whose
    exact values are zero at float32's resolution of the largest (e.g. the
    gradient of a BatchNorm bias that the next BatchNorm's mean cancels)
    hold only rounding noise and are left out.
    """

    def rms(tensor):
        return tensor.double().norm().item() / tensor.numel()**0.5

    largest = max(rms(value) for value in exact.values())
    keys = [k for k in exact if rms(exact[k]) > FLOAT32_EPS * largest]

    def worst(tensors):
        return max((relative_error(tensors[k], exact[k]), k) for k in keys)

    (error, key), (reference_error, reference_key) = worst(got), worst(
        reference)
    assert error <= KERNEL_FACTOR * max(reference_error, FLOAT32_EPS), (
        f'worst tensor {key}: relative error {error:.3g}; the reference\'s '
        f'worst, {reference_key}: {reference_error:.3g}')


def bfloat16_tolerance(reference: torch.Tensor,
                       exact: torch.Tensor) -> float:
    """The relative error allowed between a bfloat16-autocast result and
    its float32 ``reference``: the network amplifies rounding by the factor
    measured in float32 (``reference`` against its float64 ``exact``, in
    units of float32's epsilon), and bfloat16 rounds at its own epsilon.
    Autocast accumulates in float32, so this is an upper estimate."""
    amplification = relative_error(reference, exact) / FLOAT32_EPS
    return max(amplification, 1.0) * BFLOAT16_EPS


def float64_copy(model: nn.Module) -> nn.Module:
    """A float64 copy of ``model`` (the exact reference), NCHW."""
    exact = copy.deepcopy(model).double()
    return exact.to(memory_format=torch.contiguous_format)


def perturb_batchnorm(model: nn.Module, generator=None) -> None:
    """Give every BatchNorm non-trivial statistics and affine parameters,
    so a test catches weights or statistics that end up in the wrong
    place."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                n = module.num_features
                module.running_mean.copy_(torch.randn(n, generator=generator)
                                          * 0.1)
                module.running_var.copy_(torch.rand(n, generator=generator)
                                         + 0.5)
                module.weight.copy_(torch.rand(n, generator=generator) + 0.5)
                module.bias.copy_(torch.randn(n, generator=generator) * 0.1)
