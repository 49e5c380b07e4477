"""``benchmark.py --mode train``: the real training step of a config, as
mmengine's Runner runs it (optimizer wrapper with clipping, weight
average, hooks), and the anchors' plain SGD step, with the aten calls of
one step beside the rate."""
import copy
import os.path as osp
import statistics
import tempfile
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.config import Config


from .anchors import anchor_networks
from .common import (autocast, make_synthetic_imagenet, median_rate,
                     random_images)
from .mmpretrain_reference import mmpretrain_inception_config_path
from .training_step import AtenCallCounter, measure_training


def training_config(cfg: Config, *, data_root: str, split: str,
                    batch_size: int, shape: int, precision: str,
                    device: str) -> Config:
    """``cfg`` pointed at ``data_root``'s ``split`` (``meta/<split>.txt``,
    ``<split>/``), at ``batch_size`` and ``shape`` px crops, loading in
    the main process (the step is timed without its data)."""
    from mmpre_inception.apis import set_mixed_precision
    cfg = copy.deepcopy(cfg)
    loader = cfg.train_dataloader
    loader.update(batch_size=batch_size, num_workers=0,
                  persistent_workers=False)
    loader.dataset.update(data_root=data_root, ann_file=f'meta/{split}.txt',
                          data_prefix=split)
    optimizer = cfg.optim_wrapper.optimizer
    if 'SGD' in str(optimizer.type):
        # mmpretrain's config: the multi-tensor step torch takes on a GPU.
        optimizer.setdefault('foreach', True)
    for step in loader.dataset.pipeline:
        if 'RandomResizedCrop' in str(step['type']):
            step['scale'] = shape
    if precision != 'fp32':
        set_mixed_precision(cfg.optim_wrapper,
                            dict(bf16='bfloat16', fp16='float16')[precision])
    if device == 'cpu':
        cfg.setdefault('env_cfg', {})['dist_cfg'] = dict(backend='gloo')
    return cfg


def runner_step(cfg: Config, *, warmup: int,
                runs: int) -> Tuple[float, int, int]:
    """Images/s (median over ``runs`` steps after ``warmup``), aten calls
    of one step, and the network's own calls on the same batch."""
    # The counted step runs under the counter, which slows it: last, and
    # left out of the timing.
    measured = measure_training(cfg, iterations=warmup + runs + 1,
                                counted_iteration=warmup + runs)
    seconds = statistics.median(measured['seconds'][warmup:warmup + runs])
    return (measured['batch_size'] / seconds,
            sum(measured['aten_calls'].values()), measured['network_calls'])


def sgd_step(network: torch.nn.Module, *, batch_size: int, shape: int,
             device: str, precision: str, channels_last: bool, warmup: int,
             runs: int) -> Tuple[float, int, int]:
    """A plain training step: cross-entropy, backward, SGD with momentum
    and weight decay (torch's multi-tensor step, its default on GPUs)."""
    network = network.to(device).train()
    if channels_last:
        network.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(network.parameters(), lr=0.1, momentum=0.9,
                                weight_decay=1e-4, foreach=True)
    images = random_images(batch_size, shape, device, channels_last)
    targets = (torch.arange(batch_size) % 1000).to(device)

    def forward_backward():
        with autocast(device, precision):
            loss = F.cross_entropy(network(images), targets)
        loss.backward()

    def step():
        optimizer.zero_grad()
        forward_backward()
        optimizer.step()
        return batch_size

    rate = median_rate(step, warmup, runs, device)
    with AtenCallCounter() as whole:
        step()
    optimizer.zero_grad()
    with AtenCallCounter() as own:
        forward_backward()
    return rate, whole.total, own.total


def train_rates(cfg: Config, *, data_root: Optional[str], split: str,
                batch_size: int, shape: int, device: str, precision: str,
                channels_last: bool, compare: bool, compile_ours: bool,
                warmup: int, runs: int
                ) -> Tuple[Dict[str, float], Dict[str, Tuple[int, int]]]:
    """Rates and ``(step calls, network calls)`` of ours (the config's
    Runner step) and, with ``compare``, mmpretrain's config (its Runner
    step) and torchvision's and timm's plain SGD steps.

    Without ``data_root`` the images are generated (``shape`` px JPEGs).
    """
    with tempfile.TemporaryDirectory() as folder:
        if data_root is None:
            data_root, split = osp.join(folder, 'data'), 'train'
            make_synthetic_imagenet(data_root, train_per_class=max(
                1, -(-batch_size * (warmup + runs + 1) // 10)),
                val_per_class=1, image_size=shape, seed=0)
        options = dict(data_root=data_root, split=split,
                       batch_size=batch_size, shape=shape,
                       precision=precision, device=device)
        ours = training_config(cfg, **options)
        ours.model.channels_last = channels_last
        if compile_ours:
            ours.compile = True
        rate, calls, network = runner_step(ours, warmup=warmup, runs=runs)
        rates = {'mmpre_inception': rate}
        counts = {'mmpre_inception': (calls, network)}
        if not compare:
            return rates, counts
        mm_cfg = training_config(
            Config.fromfile(mmpretrain_inception_config_path()), **options)
        rate, calls, network = runner_step(mm_cfg, warmup=warmup, runs=runs)
        rates['mmpretrain'] = rate
        counts['mmpretrain'] = (calls, network)
        torch.manual_seed(0)
        for name, build in anchor_networks().items():
            if name == 'mmpretrain':
                continue
            rate, calls, network = sgd_step(
                build(), batch_size=batch_size, shape=shape, device=device,
                precision=precision, channels_last=channels_last,
                warmup=warmup, runs=runs)
            rates[name] = rate
            counts[name] = (calls, network)
        return rates, counts
