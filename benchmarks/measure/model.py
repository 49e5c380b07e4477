"""``benchmark.py --mode model``: forward passes of the network alone."""
from typing import Dict, Optional

import torch
from mmcv.cnn import fuse_conv_bn

from mmpre_inception.apis import init_model

from .anchors import anchor_networks
from .common import autocast, median_rate, random_images


class _Logits(torch.nn.Module):

    def __init__(self, classifier: torch.nn.Module) -> None:
        super().__init__()
        self.classifier = classifier

    def forward(self, x):
        return self.classifier(x, mode='tensor')


def inference_models(cfg, checkpoint: Optional[str], *, device: str,
                     channels_last: bool, fold_bn: bool, compare: bool,
                     compile_ours: bool) -> Dict[str, torch.nn.Module]:
    """Ours from ``cfg`` (and ``checkpoint``), and with ``compare`` the
    anchors, in eval mode, on ``device`` in the memory format asked."""
    models = {'mmpre_inception': _Logits(init_model(cfg, checkpoint,
                                                    device))}
    if compare:
        torch.manual_seed(0)
        models.update({name: build() for name, build in
                       anchor_networks().items()})
    for name, model in models.items():
        model.eval()
        if fold_bn:
            with torch.no_grad():
                fuse_conv_bn(model)
        model.to(device)
        if channels_last:
            model.to(memory_format=torch.channels_last)
    if compile_ours:
        models['mmpre_inception'] = torch.compile(models['mmpre_inception'])
    return models


def model_rates(models: Dict[str, torch.nn.Module], *, batch_size: int,
                shape: int, device: str, precision: str, channels_last: bool,
                warmup: int, runs: int) -> Dict[str, float]:
    """Images/s of each model's forward pass on one random batch."""
    images = random_images(batch_size, shape, device, channels_last)

    def forward(model):

        def step():
            with torch.inference_mode(), autocast(device, precision):
                model(images)
            return batch_size

        return step

    return {name: median_rate(forward(model), warmup, runs, device)
            for name, model in models.items()}
