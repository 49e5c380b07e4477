"""DistributedDataParallel for CPU processes (gloo): CI, CPU clusters."""
from mmengine.model import MMDistributedDataParallel

from mmpre_inception.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that also wraps modules on the CPU.

    mmengine's Runner always passes ``device_ids=[LOCAL_RANK]``, which
    PyTorch rejects for CPU modules; for those this wrapper drops it.
    ``tools/train.py`` and ``tools/test.py`` select it for distributed runs
    on machines without CUDA.

    Args:
        module (torch.nn.Module): The model to wrap.
        **kwargs: Passed on to ``MMDistributedDataParallel``.
    """

    def __init__(self, module, **kwargs) -> None:
        if all(p.device.type == 'cpu' for p in module.parameters()):
            kwargs.pop('device_ids', None)
            kwargs.pop('output_device', None)
        super().__init__(module=module, **kwargs)
