"""``benchmark.py --mode loader``: the data pipelines on their own, one
process being one data worker, so that img/s per worker says how many
CPU cores a GPU's rate needs; and the device half of ``--gpu-decode``."""
import copy
import os.path as osp
import tempfile
from typing import Dict, Optional

import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope

from mmpre_inception.apis import use_device_decoding
from mmpre_inception.errors import ConfigError
from mmpre_inception.registry import MODELS

from .common import make_synthetic_imagenet, median_rate


def _image_paths(data_root: str, split: str, max_images: int):
    with open(osp.join(data_root, 'meta', f'{split}.txt')) as f:
        names = [line.rsplit(' ', 1)[0] for line in f if line.strip()]
    return [osp.join(data_root, split, name) for name in names[:max_images]]


def _pipeline_rate(pipeline, paths, *, warmup: int, runs: int) -> float:
    for path in paths[:warmup]:
        pipeline(dict(img_path=path, gt_label=0))

    def one_pass():
        for path in paths:
            pipeline(dict(img_path=path, gt_label=0))
        return len(paths)

    return median_rate(one_pass, 0, runs, 'cpu')


def _device_decode_rate(cfg: Config, pipeline, paths, *, device: str,
                        batch_size: int, warmup: int, runs: int,
                        training: bool) -> float:
    """The device preprocessor on batches the workers' half packed."""
    packed = [pipeline(dict(img_path=path, gt_label=0)) for path in paths]
    batches = [pseudo_collate(packed[i:i + batch_size])
               for i in range(0, len(packed), batch_size)]
    preprocessor = MODELS.build(cfg.data_preprocessor).to(device)
    with torch.inference_mode():
        for batch in batches[:max(warmup, 1)]:
            preprocessor(batch, training)

        def one_pass():
            for batch in batches:
                preprocessor(batch, training)
            return len(packed)

        return median_rate(one_pass, 0, runs, device)


def loader_rates(cfg: Config, *, data_root: Optional[str], max_images: int,
                 device: str, batch_size: int, warmup: int, runs: int
                 ) -> Dict[str, Optional[float]]:
    """img/s of the config's test and training pipelines in this process
    (one data worker), as the CPU runs them and as ``--gpu-decode``'s
    workers run them, and of ``--gpu-decode``'s decoding on ``device``
    (None where the pipeline has no device version).

    Args:
        cfg (Config): The config.
        data_root (str, optional): An ImageNet-layout folder
            (``meta/val.txt``, ``meta/train.txt``); None generates
            ``max_images`` photo-sized JPEGs of each split.
        max_images (int): Images per pass.
        device (str): Where ``--gpu-decode`` decodes.
        batch_size (int): Its batches.
        warmup (int): Untimed images (pipelines) or batches (device).
        runs (int): Timed passes; the median counts.

    Returns:
        dict: ``'<phase> <path>'`` -> img/s.
    """
    if data_root is None:
        with tempfile.TemporaryDirectory() as folder:
            per_class = -(-max_images // 10)
            make_synthetic_imagenet(folder, per_class, per_class,
                                    imagenet_sizes=True)
            return loader_rates(cfg, data_root=folder, max_images=max_images,
                                device=device, batch_size=batch_size,
                                warmup=warmup, runs=runs)
    rates = {}
    for phase, split in (('test', 'val'), ('train', 'train')):
        loader = f'{phase}_dataloader'
        paths = _image_paths(data_root, split, max_images)
        timing = dict(warmup=warmup, runs=runs)
        with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
            cpu = Compose(cfg[loader].dataset.pipeline)
            rates[f'{phase} CPU pipeline'] = _pipeline_rate(cpu, paths,
                                                            **timing)
            device_cfg = copy.deepcopy(cfg)
            try:
                use_device_decoding(device_cfg, [loader])
            except ConfigError as error:
                print(f'{phase}: {error}')
                rates[f'{phase} --gpu-decode workers'] = None
                rates[f'{phase} --gpu-decode on {device}'] = None
                continue
            workers = Compose(device_cfg[loader].dataset.pipeline)
            rates[f'{phase} --gpu-decode workers'] = _pipeline_rate(
                workers, paths, **timing)
            rates[f'{phase} --gpu-decode on {device}'] = _device_decode_rate(
                device_cfg, workers, paths, device=device,
                batch_size=batch_size, training=phase == 'train', **timing)
    return rates
