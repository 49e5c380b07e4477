"""Image loading that names the file and the reason when an image is bad.

mmcv's ``LoadImageFromFile`` decodes a truncated JPEG into a half-grey image
without complaint, and fails on a non-image with an assertion raised from a
data-loader worker. :class:`LoadImageFromFileChecked` decodes exactly as it
does (OpenCV, BGR, same pixels), but checks the bytes first and raises
:class:`UnreadableImageError` with the path and the reason. With
``skip_unreadable=True`` it logs the path and drops the sample instead;
:class:`SkipUnreadableImages` and :func:`collate_skipping_unreadable` carry
the drop through the data loader, and ``tools/*.py --skip-unreadable`` sets
all three up.
"""
from typing import Optional, Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.dataset import pseudo_collate
from mmengine.logging import print_log

from mmpre_inception.registry import DATASETS, TRANSFORMS


class UnreadableImageError(RuntimeError):
    """An image file is missing, empty, truncated or not an image."""


# Magic numbers of the formats OpenCV decodes, to name them in messages.
_SIGNATURES = (
    (b'\xff\xd8\xff', 'JPEG'),
    (b'\x89PNG\r\n\x1a\n', 'PNG'),
    (b'GIF8', 'GIF'),
    (b'BM', 'BMP'),
    (b'II*\x00', 'TIFF'),
    (b'MM\x00*', 'TIFF'),
    (b'RIFF', 'WEBP'),
)


def sniff_format(data: bytes) -> Optional[str]:
    """The image format ``data`` starts with, or None."""
    for signature, name in _SIGNATURES:
        if data.startswith(signature):
            return name
    return None


def read_image(path: str) -> np.ndarray:
    """Read an image file as a BGR ``uint8`` array of shape (H, W, 3).

    Grayscale, CMYK, 16-bit and palette images come out as 3-channel 8-bit
    BGR; the format is taken from the content, not the file name.

    Args:
        path (str): Image file.

    Returns:
        np.ndarray: The decoded image, as mmcv's ``LoadImageFromFile``
        (OpenCV backend, ``color_type='color'``) would return it.

    Raises:
        UnreadableImageError: The file is missing, empty, truncated or not
            an image, with the path and the reason in the message.

    Example:
        >>> img = read_image('demo.JPEG')  # doctest: +SKIP
        >>> img.shape, img.dtype
        ((375, 500, 3), dtype('uint8'))
    """
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except FileNotFoundError:
        raise UnreadableImageError(
            f'cannot read image {path}: file not found') from None
    except OSError as error:
        raise UnreadableImageError(
            f'cannot read image {path}: {error.strerror}') from None
    if not data:
        raise UnreadableImageError(f'cannot read image {path}: empty file')
    image_format = sniff_format(data)
    # A JPEG ends with the end-of-image marker and a PNG with its IEND
    # chunk; OpenCV decodes files cut short without an error, as grey.
    if image_format == 'JPEG' and not data.rstrip(b'\0').endswith(
            b'\xff\xd9'):
        raise UnreadableImageError(
            f'cannot read image {path}: truncated JPEG (no end-of-image '
            f'marker after {len(data)} bytes)')
    if image_format == 'PNG' and b'IEND' not in data[-16:]:
        raise UnreadableImageError(
            f'cannot read image {path}: truncated PNG (no IEND chunk after '
            f'{len(data)} bytes)')
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        what = f'{image_format} data OpenCV cannot decode' if image_format \
            else f'not an image (starts with bytes {data[:8].hex()})'
        raise UnreadableImageError(f'cannot read image {path}: {what}')
    return image


@TRANSFORMS.register_module()
class LoadImageFromFileChecked(BaseTransform):
    """Load ``results['img_path']`` like mmcv's ``LoadImageFromFile``, but
    stop with the path and the reason when the image is bad.

    Required keys: ``img_path``. Added keys: ``img``, ``img_shape``,
    ``ori_shape``.

    Args:
        skip_unreadable (bool): Log an unreadable image and return None (the
            sample is dropped) instead of raising. Use it through
            ``--skip-unreadable``, which also wraps the data set so that the
            drop reaches the data loader. Defaults to False.
        to_float32 (bool): Return a float32 image. Defaults to False.

    Example:
        >>> pipeline = [dict(type=LoadImageFromFileChecked),
        ...             dict(type='PackInputs')]
    """

    def __init__(self, skip_unreadable: bool = False,
                 to_float32: bool = False) -> None:
        self.skip_unreadable = skip_unreadable
        self.to_float32 = to_float32

    def transform(self, results: dict) -> Optional[dict]:
        try:
            image = read_image(results['img_path'])
        except UnreadableImageError as error:
            if not self.skip_unreadable:
                raise
            print_log(f'skipped: {error}', logger='current',
                      level=30)  # logging.WARNING
            return None
        if self.to_float32:
            image = image.astype(np.float32)
        results['img'] = image
        results['img_shape'] = image.shape[:2]
        results['ori_shape'] = image.shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(skip_unreadable='
                f'{self.skip_unreadable}, to_float32={self.to_float32})')


@DATASETS.register_module()
class SkipUnreadableImages:
    """Wraps a data set so that a sample whose pipeline returns None
    (an image :class:`LoadImageFromFileChecked` skipped) reaches the data
    loader as None, to be dropped by :func:`collate_skipping_unreadable`.

    mmengine's ``BaseDataset`` would otherwise fetch a random other sample
    in its place (training) or raise (``test_mode``); at evaluation a
    stand-in sample would be scored twice.

    Args:
        dataset (dict | BaseDataset): The data set, or its config.

    Example:
        >>> dataset = dict(type=SkipUnreadableImages,
        ...                dataset=dict(type='ImageNet', ...))
    """

    def __init__(self, dataset) -> None:
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        dataset.full_init()
        self.dataset = dataset

    @property
    def metainfo(self) -> dict:
        return self.dataset.metainfo

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> Optional[dict]:
        return self.dataset.prepare_data(index)

    def __getattr__(self, name: str):
        # Anything else (get_data_info, data_list, ...) is the data set's.
        return getattr(self.__dict__['dataset'], name)


def collate_skipping_unreadable(batch: Sequence[Optional[dict]]) -> dict:
    """mmengine's ``pseudo_collate`` without the None samples; the batch
    says how many it dropped under ``'unreadable'``.

    Args:
        batch (list): Samples from the data set, None for skipped ones.

    Returns:
        dict: ``inputs``, ``data_samples`` and ``unreadable`` (int).
    """
    kept = [sample for sample in batch if sample is not None]
    collated = pseudo_collate(kept) if kept else dict(inputs=[],
                                                      data_samples=[])
    collated['unreadable'] = len(batch) - len(kept)
    return collated
