"""DistributedDataParallel for CPU processes (gloo): CI, CPU clusters."""
import inspect

import torch
from mmengine.model import MMDistributedDataParallel

from mmpre_inception.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that also wraps modules on the CPU.

    mmengine's Runner always passes ``device_ids=[LOCAL_RANK]``, which
    PyTorch rejects for CPU modules; for those this wrapper drops it.
    ``tools/train.py`` and ``tools/test.py`` select it for distributed runs
    on machines without CUDA.

    torch 2.15 renamed ``broadcast_buffers`` (the buffers copied from rank
    0 at every forward pass) to ``forward_sync_buffers`` and warns at every
    run for the old name; the configs' ``broadcast_buffers`` is given to
    torch by the name it knows. (The new name also copies the buffers once
    when wrapping, when every rank's are still the same.)

    Args:
        module (torch.nn.Module): The model to wrap.
        **kwargs: Passed on to ``MMDistributedDataParallel``.
    """

    def __init__(self, module, **kwargs) -> None:
        if all(p.device.type == 'cpu' for p in module.parameters()):
            kwargs.pop('device_ids', None)
            kwargs.pop('output_device', None)
        if 'broadcast_buffers' in kwargs and _TORCH_RENAMED_BUFFER_SYNC:
            kwargs['forward_sync_buffers'] = kwargs.pop('broadcast_buffers')
        super().__init__(module=module, **kwargs)


_TORCH_RENAMED_BUFFER_SYNC = 'forward_sync_buffers' in inspect.signature(
    torch.nn.parallel.DistributedDataParallel.__init__).parameters
