"""TensorFlow's RMSProp, the paper's optimizer, as a multi-tensor step on
every device."""
from timm.optim import RMSpropTF as TimmRMSpropTF

from mmpre_inception.registry import OPTIMIZERS


@OPTIMIZERS.register_module()
class RMSpropTF(TimmRMSpropTF):
    """timm's ``RMSpropTF`` (TensorFlow's rule) whose step is its
    multi-tensor path on every device.

    timm computes TensorFlow's rule in two ways, one Python iteration per
    parameter or ``torch._foreach_*`` calls over a whole parameter group,
    and, like torch's own optimizers, picks the second only for CUDA
    tensors. Here it is always the second: a training step costs the same
    dozen or so calls per parameter group on a GPU and a CPU, so the count
    CI measures is the one a GPU launches (with the merged groups of
    :class:`MergedGroupsOptimWrapperConstructor`, two groups instead of
    one per parameter). Both paths run the same elementwise arithmetic,
    and the state (``step``, ``square_avg``, ``momentum_buffer``) is
    timm's, so checkpoints move between the two classes either way.

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
        super().__init__(params, *args, foreach=foreach, **kwargs)
