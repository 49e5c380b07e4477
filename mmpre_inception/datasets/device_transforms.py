"""The data pipeline for decoding on the device (``--gpu-decode``): data
workers read and check the files and draw every random choice, the model's
data preprocessor decodes the batch and applies them on the GPU.

Each transform here is the CPU transform it is named after, run on the
image's shape alone: the same geometry code and the same random draws, in
the same order, so that a seed gives the same crop boxes and flips as the
CPU pipeline (``tests/test_device_decoding.py``). What it would have done
to the pixels is appended to ``results['device_ops']``, which
:func:`~mmpre_inception.datasets.device_decoding.apply_device_ops` replays
on the decoded image.

Example:
    >>> test_pipeline = [
    ...     dict(type=LoadImageBytesChecked),
    ...     dict(type=ResizeEdgeOnDevice, scale=342, edge='short'),
    ...     dict(type=CenterCropOnDevice, crop_size=299),
    ...     dict(type='PackInputs', input_key='img_bytes',
    ...          meta_keys=DEVICE_META_KEYS),
    ... ]
"""
from typing import Optional, Tuple

import numpy as np
from mmcv.transforms import CenterCrop, RandomFlip
from mmpretrain.datasets import RandomResizedCrop, ResizeEdge

from mmpre_inception.errors import UnreadableImageError
from mmpre_inception.registry import TRANSFORMS

from .loading import (ImageHeader, LoadImageFromFile, decode_with_opencv,
                      read_checked_bytes)

#: What ``--gpu-decode`` adds to PackInputs' meta keys: the operations to
#: replay, and whether (and why) OpenCV decodes the file.
DEVICE_KEYS = ('device_ops', 'cpu_decoding')
DEVICE_META_KEYS = ('sample_idx', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'flip', 'flip_direction') + DEVICE_KEYS


def cpu_decoding_reason(header: Optional[ImageHeader]) -> Optional[str]:
    """Why OpenCV, not the device, decodes a file with this header; None
    for a JPEG the device decodes as OpenCV would. The same on every
    device, so that the CPU tests see the routing a GPU run takes.

    Args:
        header (ImageHeader, optional): The file's header (None: Pillow
            could not read one).
    """
    if header is None or header.format != 'JPEG':
        return header.format if header else 'unknown format'
    if header.mode == 'CMYK':
        return 'CMYK JPEG'
    if header.orientation != 1:
        return 'EXIF-rotated JPEG'
    return None


def _require_bilinear(transform) -> None:
    if transform.interpolation != 'bilinear':
        raise ValueError(f'{type(transform).__name__}: interpolation '
                         f'{transform.interpolation!r}; the device resizes '
                         'bilinearly only')


def shape_only(shape: Tuple[int, int]) -> np.ndarray:
    """An (H, W, 3) uint8 array that holds no pixels (zero strides): what
    the CPU transforms read the geometry from."""
    return np.broadcast_to(np.zeros((), np.uint8), (*shape[:2], 3))


@TRANSFORMS.register_module()
class LoadImageBytesChecked(LoadImageFromFile):
    """Read ``results['img_path']`` without decoding it, with every check
    of :class:`LoadImageFromFile` and its ``skip_unreadable``.

    The size comes from the header, turned as its EXIF orientation says
    (OpenCV turns the pixels so). A file whose header does not say, or
    whose format has no signature we know, is decoded here with OpenCV to
    check it and measure it, as the CPU path would.

    Required keys: ``img_path``. Added keys: ``img_bytes`` (uint8 array of
    the file), ``img_shape``, ``ori_shape``, ``device_ops`` (empty),
    ``cpu_decoding`` (:func:`cpu_decoding_reason`, worked out here so that
    the main process reads no header).
    """

    def transform(self, results: dict) -> Optional[dict]:
        path = results['img_path']
        try:
            data, header = read_checked_bytes(path, self.max_pixels,
                                              self.max_aspect_ratio)
            if header is None:
                size = decode_with_opencv(path, data, header).shape[:2]
            else:
                size = header.decoded_size
        except UnreadableImageError as error:
            if not self.skip_unreadable:
                raise
            return self.skipped(error)
        # Writable (a bytearray), as torch wants an array it wraps to be.
        results['img_bytes'] = np.frombuffer(bytearray(data), np.uint8)
        results['img_shape'] = tuple(size)
        results['ori_shape'] = tuple(size)
        results['device_ops'] = []
        results['cpu_decoding'] = cpu_decoding_reason(header)
        return results


@TRANSFORMS.register_module()
class ResizeEdgeOnDevice(ResizeEdge):
    """mmpretrain's ``ResizeEdge``, its bilinear resize left to the device.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _require_bilinear(self)

    def transform(self, results: dict) -> dict:
        results['img'] = shape_only(results['img_shape'])
        results = super().transform(results)
        del results['img']
        return results

    def _resize_img(self, results: dict) -> None:
        width, height = results['scale']
        old_height, old_width = results['img_shape'][:2]
        results['device_ops'].append(('resize', (height, width)))
        results['img'] = shape_only((height, width))
        results['img_shape'] = (height, width)
        results['scale_factor'] = (width / old_width, height / old_height)


@TRANSFORMS.register_module()
class CenterCropOnDevice(CenterCrop):
    """mmcv's ``CenterCrop`` (what mmpretrain's configs use), the crop left
    to the device."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.auto_pad:
            raise ValueError('CenterCropOnDevice: auto_pad is not done on '
                             'the device')

    def transform(self, results: dict) -> dict:
        results['img'] = shape_only(results['img_shape'])
        results = super().transform(results)
        del results['img']
        return results

    def _crop_img(self, results: dict, bboxes: np.ndarray) -> None:
        x1, y1, x2, y2 = (int(v) for v in bboxes)
        box = (y1, x1, y2 - y1 + 1, x2 - x1 + 1)
        results['device_ops'].append(('crop', box))
        results['img'] = shape_only(box[2:])
        results['img_shape'] = box[2:]


@TRANSFORMS.register_module()
class RandomResizedCropOnDevice(RandomResizedCrop):
    """mmpretrain's ``RandomResizedCrop``: its box drawn here with its own
    code and random calls, the crop and the bilinear resize left to the
    device."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _require_bilinear(self)

    def transform(self, results: dict) -> dict:
        top, left, height, width = self.rand_crop_params(
            shape_only(results['img_shape']))
        # self.scale is (h, w): mmpretrain resizes to self.scale[::-1],
        # in mmcv's (w, h) order.
        results['device_ops'] += [('crop', (top, left, height, width)),
                                  ('resize', tuple(self.scale))]
        results['img_shape'] = tuple(self.scale)
        return results


@TRANSFORMS.register_module()
class RandomFlipOnDevice(RandomFlip):
    """mmcv's ``RandomFlip``: the same draw, the flip left to the device.
    """

    def _flip(self, results: dict) -> None:
        direction = results['flip_direction']
        if direction not in ('horizontal', 'vertical'):
            raise ValueError(f'RandomFlipOnDevice: direction {direction!r}; '
                             'horizontal and vertical flips only')
        results['device_ops'].append(('flip', direction))
