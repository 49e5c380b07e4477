"""Classify images with a config and a checkpoint, without a Runner."""
import os
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope
from mmpretrain.datasets.categories import IMAGENET_CATEGORIES

from mmpre_inception.checkpoint import load_checked_weights, read_checkpoint
from mmpre_inception.datasets import config_class_names
from mmpre_inception.registry import MODELS
from mmpre_inception.utils import ConfigError, load_config

ImageInput = Union[str, os.PathLike, np.ndarray]


def check_device(device: str) -> None:
    """Refuse a device this machine does not have, naming it.

    Raises:
        ConfigError: E.g. ``cuda`` without a GPU.
    """
    try:
        kind = torch.device(device).type
    except RuntimeError:
        raise ConfigError(f'--device {device}: not a device name; use cpu, '
                          'cuda or cuda:N') from None
    if kind == 'cuda' and not torch.cuda.is_available():
        raise ConfigError(f'--device {device}: this machine has no CUDA GPU '
                          'that torch can use; use --device cpu')


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               device: str = 'cpu') -> torch.nn.Module:
    """Build a config's model in eval mode, with a checkpoint's weights
    (read safely, checked to fit) or its own initialisation.

    Args:
        config (str | Config): Config file or object.
        checkpoint (str, optional): Weights. Defaults to None.
        device (str): Defaults to ``'cpu'``.

    Returns:
        nn.Module: The model, with ``cfg`` (the config) and
        ``checkpoint_meta`` (the checkpoint's ``meta``, or ``{}``) set.

    Example:
        >>> model = init_model('configs/inception_v3_8xb32_in1k.py', 'x.pth')
        ... # doctest: +SKIP
    """
    check_device(device)
    cfg = load_config(str(config)) if isinstance(
        config, (str, os.PathLike)) else config
    # Read before building: a bad file is named without the wait.
    loaded = read_checkpoint(checkpoint) if checkpoint else None
    with DefaultScope.overwrite_default_scope('mmpre_inception'):
        model = MODELS.build(
            dict(cfg.model, data_preprocessor=cfg.get('data_preprocessor')))
    meta = {}
    if checkpoint:
        meta = load_checked_weights(model, checkpoint, loaded)['meta']
    else:
        model.init_weights()
    model.cfg, model.checkpoint_meta = cfg, meta
    return model.to(device).eval()


def _three_channels(image: np.ndarray) -> np.ndarray:
    """A decoded image as the 3-channel BGR array the test pipeline takes,
    as mmcv's loader decodes files (grayscale repeated, alpha dropped)."""
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4):
        raise ValueError(
            f'an image array must be H x W or H x W x C with C = 1, 3 or 4, '
            f'got shape {image.shape}')
    if image.shape[2] == 1:
        return np.repeat(image, 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3])


class ImagePredictor:
    """An Inception V3 from a config and a checkpoint, ready to classify.

    The checkpoint is read with the safe loader and must fit the model (the
    auxiliary classifier may be missing). Class names come from the
    checkpoint's ``meta['dataset_meta']['classes']`` (written by training),
    else the config's test set, else ImageNet's for 1000 classes.

    Args:
        config (str | Config): Config file or object; its test pipeline and
            data preprocessor prepare the images.
        checkpoint (str, optional): Weights; without them the model keeps
            its random initialisation (for tests and benchmarks).
        device (str): ``'cpu'``, ``'cuda'``, ... Defaults to ``'cpu'``.

    Example:
        >>> predictor = ImagePredictor(
        ...     'configs/demo/inception_v3_1xb16_shapes.py',
        ...     'work_dirs/demo/epoch_6.pth')  # after `make demo`
        >>> predictor('demo/star.jpg')[0]['class_name']  # doctest: +SKIP
        'star'
    """

    def __init__(self, config: Union[str, Config],
                 checkpoint: Optional[str] = None,
                 device: str = 'cpu') -> None:
        self.model = init_model(config, checkpoint, device)
        self.cfg = cfg = self.model.cfg
        steps = [dict(step) for step in cfg.test_dataloader.dataset.pipeline]
        with DefaultScope.overwrite_default_scope('mmpre_inception'):
            self._load_pipeline = Compose(steps)
            self._array_pipeline = Compose(steps[1:])
        num_classes = self.model.head.num_classes
        dataset_meta = self.model.checkpoint_meta.get('dataset_meta') or {}
        self.class_names = dataset_meta.get('classes')
        if self.class_names is None:
            names = config_class_names(cfg)
            self.class_names = names if names and len(
                names) == num_classes else None
        if self.class_names is None and num_classes == 1000:
            self.class_names = IMAGENET_CATEGORIES

    def _prepare(self, image: ImageInput) -> torch.Tensor:
        if isinstance(image, (str, os.PathLike)):
            return self._load_pipeline(dict(img_path=os.fspath(image)))[
                'inputs']
        image = _three_channels(image)
        return self._array_pipeline(
            dict(img=image, img_shape=image.shape[:2],
                 ori_shape=image.shape[:2]))['inputs']

    @torch.no_grad()
    def __call__(self, images: Union[ImageInput, Sequence[ImageInput]],
                 topk: int = 5) -> List[dict]:
        """Classify one image or several.

        Args:
            images: Image files (``str`` or ``os.PathLike``) or decoded
                ``uint8`` arrays, BGR as OpenCV gives them: H x W
                (grayscale), H x W x 1, H x W x 3 or H x W x 4 (BGRA; the
                alpha channel is dropped); one, or a list of them.
            topk (int): How many classes to return per image.

        Returns:
            list[dict]: Per image: ``label``, ``score``, ``class_name``
            (None without names) and ``topk``, a list of
            ``(label, score, class_name)`` from the most likely down.
        """
        if isinstance(images, (str, os.PathLike, np.ndarray)):
            images = [images]
        inputs = [self._prepare(image) for image in images]
        data = self.model.data_preprocessor(dict(inputs=inputs),
                                            training=False)
        scores = self.model(data['inputs'], mode='tensor').softmax(dim=1)
        results = []
        for row in scores.float().cpu():
            values, labels = row.topk(min(topk, row.numel()))
            ranked = [(int(label), float(value), self._name(int(label)))
                      for value, label in zip(values, labels)]
            results.append(dict(label=ranked[0][0], score=ranked[0][1],
                                class_name=ranked[0][2], topk=ranked))
        return results

    def _name(self, label: int) -> Optional[str]:
        return self.class_names[label] if self.class_names else None
