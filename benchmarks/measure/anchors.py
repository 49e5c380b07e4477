"""The other libraries' Inception V3 networks, timed beside ours."""
from typing import Callable, Dict

import torch


class _MMPretrainLogits(torch.nn.Module):
    """mmpretrain's network, whose "backbone" ends in the classifier and
    returns a tuple."""

    def __init__(self) -> None:
        super().__init__()
        from mmpretrain.models.backbones import InceptionV3
        self.net = InceptionV3(num_classes=1000, aux_logits=False)
        self.net.init_weights()

    def forward(self, x):
        return self.net(x)[-1]


def anchor_networks() -> Dict[str, Callable[[], torch.nn.Module]]:
    """Builders of mmpretrain's, torchvision's and timm's ``inception_v3``
    (no auxiliary classifier), those that are installed; each network
    returns logits."""
    builders: Dict[str, Callable[[], torch.nn.Module]] = {}
    try:
        import mmpretrain  # noqa: F401
        builders['mmpretrain'] = _MMPretrainLogits
    except ImportError:
        pass
    try:
        import torchvision
        builders['torchvision'] = lambda: torchvision.models.inception_v3(
            weights=None, aux_logits=False, init_weights=True)
    except ImportError:
        pass
    try:
        import timm
        builders['timm'] = lambda: timm.create_model('inception_v3')
    except ImportError:
        pass
    return builders
