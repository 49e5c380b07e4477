"""Mixed precision for devices where mmengine's AmpOptimWrapper refuses."""
from contextlib import contextmanager
from typing import Union

import torch
from mmengine.optim import OptimWrapper
from mmengine.runner.amp import autocast

from mmpre_inception.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """Runs the forward pass under mmengine's ``autocast`` (as its
    ``AmpOptimWrapper`` does), without loss scaling.

    mmengine's ``AmpOptimWrapper`` asserts a GPU is present; this wrapper
    serves bfloat16 on CPUs (and on GPUs, where bf16 needs no loss scaling
    either). ``tools/train.py --amp`` picks it when there is no GPU.

    Args:
        dtype (str | torch.dtype): Autocast dtype. Defaults to
            ``'bfloat16'``; float16 needs loss scaling, so use mmengine's
            ``AmpOptimWrapper`` for it.
        **kwargs: ``OptimWrapper`` arguments (``optimizer``, ``clip_grad``,
            ``accumulative_counts``).

    Example:
        >>> optim_wrapper = dict(type=AutocastOptimWrapper,
        ...                      optimizer=dict(type='SGD', lr=0.1))
    """

    def __init__(self, dtype: Union[str, torch.dtype] = 'bfloat16',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(dtype, str):
            dtype = getattr(torch, dtype, None)
        if dtype is not torch.bfloat16:
            raise ValueError(
                'AutocastOptimWrapper: dtype must be bfloat16 (float16 '
                'needs loss scaling: use mmengine AmpOptimWrapper on a GPU)')
        self.dtype = dtype

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        device_type = next(model.parameters()).device.type
        with super().optim_context(model), autocast(
                device_type=device_type, dtype=self.dtype):
            yield
