"""Count FLOPs as OpenMMLab's model zoo does (mmcv 1.x's counter).

The model zoo's 5,745,177,632 FLOPs for Inception V3 come from mmcv 1.x's
``get_model_complexity_info``, which counts, per image:

* convolution: kernel size x input channels / groups, per output element,
  plus one per output element for a bias;
* fully connected: input elements x output features (bias not counted);
* BatchNorm: 2 per input element (affine), ReLU: 1 per output element;
* max, average and adaptive pooling: 1 per input element.

mmcv counted through module hooks, so functional calls were invisible to it;
this counter intercepts the functions themselves (``F.conv2d``,
``F.relu``, ...), so it gives the same figure whether a network writes
``nn.ReLU()`` or ``F.relu``. mmengine's newer counter gives 5,731,151,072:
it counts BatchNorm once per element and ReLU and pooling not at all.
"""
import math
from typing import Dict, Tuple

import torch
import torch.nn.functional as F
from mmengine.registry import DefaultScope
from torch.overrides import TorchFunctionMode

from mmpre_inception.checkpoint import AUX_CLASSIFIER_PREFIXES
from mmpre_inception.registry import MODELS
from mmpre_inception.utils import load_config

_POOLS = {F.max_pool2d, F.avg_pool2d, F.adaptive_avg_pool2d,
          F.adaptive_max_pool2d, torch.max_pool2d, torch._C._nn.avg_pool2d,
          torch._C._nn.adaptive_avg_pool2d}


class _Counter(TorchFunctionMode):

    def __init__(self) -> None:
        super().__init__()
        self.counts: Dict[str, int] = {}

    def _add(self, kind: str, value: int) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + int(value)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if func in (F.conv2d, torch.conv2d):
            weight = args[1]
            bias = args[2] if len(args) > 2 else kwargs.get('bias')
            per_output = math.prod(weight.shape[1:])  # Cin/groups * kh * kw
            self._add('conv', out.numel() * per_output +
                      (out.numel() if bias is not None else 0))
        elif func is F.linear:
            self._add('linear', args[0].numel() * args[1].shape[0])
        elif func is F.batch_norm:
            weight = args[3] if len(args) > 3 else kwargs.get('weight')
            self._add('batchnorm',
                      args[0].numel() * (2 if weight is not None else 1))
        elif func in (F.relu, torch.relu, torch.relu_):
            self._add('relu', out.numel())
        elif func in _POOLS:
            self._add('pool', args[0].numel())
        elif func is torch.Tensor.mean and isinstance(args[0], torch.Tensor) \
                and args[0].dim() == 4 and out.dim() == 2:
            self._add('pool', args[0].numel())  # global average pooling
        return out


@torch.no_grad()
def count_flops(model: torch.nn.Module, *inputs, **kwargs) -> Dict[str, int]:
    """FLOPs of ``model(*inputs, **kwargs)`` by kind, mmcv 1.x's rules.

    Args:
        model (nn.Module): Model, evaluated as called (set eval mode first).
        *inputs: Its positional arguments; use a batch of one image for
            per-image figures.
        **kwargs: Its keyword arguments (e.g. ``mode='tensor'``).

    Returns:
        dict: ``conv``, ``linear``, ``batchnorm``, ``relu``, ``pool`` and
        their ``total``.

    Example:
        >>> from mmpre_inception.models import InceptionV3
        >>> count_flops(InceptionV3().eval(),
        ...             torch.zeros(1, 3, 299, 299))['conv']
        5711168096
    """
    counter = _Counter()
    with counter:
        model(*inputs, **kwargs)
    counts = dict(counter.counts)
    counts['total'] = sum(counts.values())
    return counts


def count_inference_flops(config: str, height: int = 299,
                          width: int = 299) -> Tuple[Dict[str, int], int]:
    """FLOPs and parameters of a config's model at inference, per image;
    the auxiliary classifier, which only training runs, is left out of
    both (``tools/analysis_tools/get_flops.py``).

    Returns:
        tuple[dict, int]: :func:`count_flops`'s counts and the number of
        parameters.

    Raises:
        ConfigError: The config cannot be read.
    """
    cfg = load_config(config)
    with DefaultScope.overwrite_default_scope('mmpre_inception'):
        model = MODELS.build(cfg.model).eval()
    params = sum(p.numel() for name, p in model.named_parameters()
                 if not name.startswith(AUX_CLASSIFIER_PREFIXES))
    return count_flops(model, torch.zeros(1, 3, height, width),
                       mode='tensor'), params
