"""Classify images with a config and a checkpoint, without a Runner."""
import os
from typing import List, Optional, Sequence, Union

import cv2
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


def as_bgr_uint8(image, channel_order: str = 'bgr') -> np.ndarray:
    """A decoded image array as the 3-channel BGR ``uint8`` array the test
    pipeline takes, as mmcv's loader decodes files.

    Accepted: ``uint8`` (0..255); ``uint16`` (0..65535), scaled to 8 bits
    as OpenCV reads a 16-bit file; float (0..1, PIL's and torchvision's
    convention), scaled by 255 and rounded. Shapes H x W (grayscale,
    repeated), H x W x 1, H x W x 3 and H x W x 4 (alpha dropped).

    Args:
        image (np.ndarray): The image.
        channel_order (str): ``'bgr'`` (OpenCV, mmcv) or ``'rgb'`` (PIL,
            torchvision, matplotlib). Defaults to ``'bgr'``.

    Returns:
        np.ndarray: H x W x 3, ``uint8``, BGR.

    Raises:
        ValueError: Anything else, in one line naming the type, dtype,
            shape or value range and what to give instead.

    Example:
        >>> as_bgr_uint8(np.ones((2, 3), np.float32)).tolist()[0][0]
        [255, 255, 255]
    """
    if channel_order not in ('bgr', 'rgb'):
        raise ValueError(f"channel_order {channel_order!r}: give 'bgr' "
                         "(OpenCV) or 'rgb' (PIL, torchvision)")
    if not isinstance(image, np.ndarray):
        hint = ('decode it first (cv2.imdecode, PIL.Image.open)'
                if isinstance(image, (bytes, bytearray)) else
                'convert it with tensor.permute(1, 2, 0).cpu().numpy()'
                if isinstance(image, torch.Tensor) else
                'give a file path or a decoded numpy array')
        raise ValueError(f'an image of type {type(image).__name__}: {hint}')
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4):
        raise ValueError(
            f'an image array must be H x W or H x W x C with C = 1, 3 or 4, '
            f'got shape {image.shape}')
    if image.size == 0:
        raise ValueError(f'an empty image array (shape {image.shape})')
    if image.dtype == np.uint16:
        # OpenCV's 16 -> 8 bits for a 16-bit file: divide by 256, rounded.
        image = cv2.convertScaleAbs(image, alpha=1 / 256)
    elif image.dtype.kind == 'f':
        low, high = float(np.nanmin(image)), float(np.nanmax(image))
        if not (np.isfinite(image).all() and 0 <= low and high <= 1):
            raise ValueError(
                f'a {image.dtype} image must hold values in 0..1 (PIL and '
                f'torchvision convention), got {low:g}..{high:g}; give '
                'uint8 for 0..255')
        image = np.rint(image * 255).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise ValueError(
            f'an image array of dtype {image.dtype}: give uint8 (0..255), '
            'uint16 (0..65535) or float (0..1)')
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    image = image[:, :, :3]
    if channel_order == 'rgb':
        image = image[:, :, ::-1]
    return np.ascontiguousarray(image)


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
        ...     'work_dirs/demo/epoch_3.pth')  # after `make demo`
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

    def _prepare(self, image: ImageInput,
                 channel_order: str) -> torch.Tensor:
        if isinstance(image, (str, os.PathLike)):
            return self._load_pipeline(dict(img_path=os.fspath(image)))[
                'inputs']
        image = as_bgr_uint8(image, channel_order)
        return self._array_pipeline(
            dict(img=image, img_shape=image.shape[:2],
                 ori_shape=image.shape[:2]))['inputs']

    @torch.no_grad()
    def __call__(self, images: Union[ImageInput, Sequence[ImageInput]],
                 topk: int = 5, channel_order: str = 'bgr') -> List[dict]:
        """Classify one image or several.

        Args:
            images: Image files (``str`` or ``os.PathLike``) or decoded
                arrays (:func:`as_bgr_uint8`: ``uint8``, ``uint16`` or
                float in 0..1; H x W, H x W x 1, H x W x 3 or H x W x 4,
                the alpha channel dropped); one, or a list of them.
            topk (int): How many classes to return per image, 1 or more.
            channel_order (str): Of the arrays: ``'bgr'`` as OpenCV gives
                them, or ``'rgb'`` as PIL and torchvision do. Defaults to
                ``'bgr'``.

        Returns:
            list[dict]: Per image: ``label``, ``score``, ``class_name``
            (None without names) and ``topk``, a list of
            ``(label, score, class_name)`` from the most likely down.
        """
        if isinstance(images, (str, os.PathLike, np.ndarray, bytes,
                               torch.Tensor)) or images is None:
            images = [images]
        if not isinstance(images, Sequence) or not images:
            raise ValueError(f'no images given ({images!r}): give a file '
                             'path, an array, or a list of them')
        if isinstance(topk, bool) or not isinstance(topk, int) or topk < 1:
            raise ValueError(f'topk={topk!r}: give an integer of 1 or more')
        inputs = [self._prepare(image, channel_order) for image in images]
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
