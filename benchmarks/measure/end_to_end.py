"""``benchmark.py --mode e2e``: the test data loader and the model, as
``tools/test.py`` runs them (decode, resize, model)."""
from typing import Callable, Dict, Iterable, Optional

import torch
from mmcv.cnn import fuse_conv_bn
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmpre_inception.apis import init_model, use_device_decoding
from mmpre_inception.checkpoint import check_state_dict_fits, read_weights
from mmpre_inception.datasets import check_dataset_annotations
from mmpre_inception.utils import check_config_runs_here, resolve_auto_workers

from .common import autocast, median_rate
from .mmpretrain_reference import (build_mmpretrain_classifier,
                                   mmpretrain_inception_config_path)


def loader_config(cfg: Config, *, data_root: Optional[str],
                  max_images: Optional[int],
                  batch_size: Optional[int]) -> Config:
    """``cfg`` with its test loader on ``data_root``, the first
    ``max_images`` images, ``batch_size``; ``num_workers='auto'`` resolved
    as the Runner resolves it."""
    loader = cfg.test_dataloader
    if data_root:
        loader.dataset.data_root = data_root
    if max_images:
        loader.dataset.indices = max_images
    if batch_size:
        loader.batch_size = batch_size
    check_config_runs_here(cfg)
    cfg.test_dataloader, resolved = resolve_auto_workers(
        'test_dataloader', loader)
    if resolved:
        print(resolved)
    return cfg


def _passes(batches: Callable[[], Iterable], test_step: Callable, *,
            warmup: int, runs: int, device: str) -> float:
    """Images/s of whole passes over ``batches()``; the warm-up is
    ``warmup`` batches."""
    with torch.inference_mode():
        for index, batch in enumerate(batches()):
            if index >= warmup:
                break
            test_step(batch)

        def one_pass():
            return sum(test_step(batch) for batch in batches())

        return median_rate(one_pass, 0, runs, device)


def loader_rate(model, cfg: Config, *, scope: str, device: str,
                precision: str, warmup: int, runs: int) -> float:
    with DefaultScope.overwrite_default_scope(scope):
        loader = Runner.build_dataloader(cfg.test_dataloader)

    def test_step(batch):
        with autocast(device, precision):
            model.test_step(batch)
        return len(batch['data_samples'])

    return _passes(lambda: loader, test_step, warmup=warmup, runs=runs,
                   device=device)


def _mmpretrain_model(cfg: Config, checkpoint: Optional[str], device: str):
    model = build_mmpretrain_classifier(cfg)
    model.init_weights()
    if checkpoint:
        # its layout; the auxiliary classifier its config leaves out
        weights = {key: value for key, value in read_weights(
            checkpoint).items() if '.AuxLogits.' not in key}
        check_state_dict_fits(
            model.state_dict(), weights,
            f"checkpoint {checkpoint} (--compare needs mmpretrain's "
            'layout, backbone.fc.*)')
        model.load_state_dict(weights)
    model = model.to(device)
    model.eval()
    return model


def e2e_rates(cfg: Config, checkpoint: Optional[str], *,
              data_root: Optional[str], max_images: Optional[int],
              batch_size: Optional[int], gpu_decode: bool, device: str,
              precision: str, channels_last: bool, fold_bn: bool,
              compare: bool, warmup: int, runs: int) -> Dict[str, float]:
    """Ours end to end (with ``gpu_decode`` as ``tools/test.py
    --gpu-decode`` runs), and with ``compare`` mmpretrain's config as its
    ``tools/test.py`` runs it (its pipeline, model and memory format)."""
    loader = dict(data_root=data_root, max_images=max_images,
                  batch_size=batch_size)
    cfg = loader_config(cfg, **loader)
    if gpu_decode:
        use_device_decoding(cfg, ['test_dataloader'])
    check_dataset_annotations(cfg.test_dataloader.dataset)
    ours = init_model(cfg, checkpoint, device)
    if fold_bn:
        with torch.no_grad():
            fuse_conv_bn(ours)
    timing = dict(device=device, precision=precision, warmup=warmup,
                  runs=runs)
    rates = {'mmpre_inception': loader_rate(ours, cfg,
                                            scope='mmpre_inception',
                                            **timing)}
    if compare:
        mm_cfg = loader_config(
            Config.fromfile(mmpretrain_inception_config_path()), **loader)
        rates['mmpretrain'] = loader_rate(
            _mmpretrain_model(mm_cfg, checkpoint, device), mm_cfg,
            scope='mmpretrain', **timing)
    return rates
