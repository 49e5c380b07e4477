"""TF-slim's evaluation preprocessing, for weights trained in TensorFlow."""
import numpy as np
from mmcv.transforms import BaseTransform

from mmpre_inception.registry import TRANSFORMS


def central_crop_box(height: int, width: int, fraction: float):
    """``(top, left, crop_height, crop_width)`` of ``tf.image.central_crop``:
    the start truncated, and the size what is left between two equal
    margins (so 87.5% of 500 is 438, not 437.5)."""
    top = int((height - height * fraction) / 2)
    left = int((width - width * fraction) / 2)
    return top, left, height - 2 * top, width - 2 * left


def _legacy_bilinear_taps(in_size: int, out_size: int):
    # TF1's resize_bilinear(align_corners=False): output pixel i samples
    # the input at i * in/out, with no half-pixel offset.
    scale = np.float32(in_size / out_size)
    source = np.arange(out_size, dtype=np.float32) * scale
    lower = np.floor(source).astype(np.int64)
    upper = np.minimum(lower + 1, in_size - 1)
    return lower, upper, (source - lower).astype(np.float32)


def legacy_resize_bilinear(img: np.ndarray, size: int) -> np.ndarray:
    """``tf.compat.v1.image.resize_bilinear(align_corners=False)`` of an
    ``(H, W, C)`` image to ``size x size``, in float32, in TensorFlow's
    order of operations (columns first, then rows)."""
    img = img.astype(np.float32)
    top, bottom, y_lerp = _legacy_bilinear_taps(img.shape[0], size)
    left, right, x_lerp = _legacy_bilinear_taps(img.shape[1], size)
    x_lerp, y_lerp = x_lerp[None, :, None], y_lerp[:, None, None]
    top_left, top_right = img[top][:, left], img[top][:, right]
    bottom_left, bottom_right = img[bottom][:, left], img[bottom][:, right]
    upper = top_left + (top_right - top_left) * x_lerp
    lower = bottom_left + (bottom_right - bottom_left) * x_lerp
    return upper + (lower - upper) * y_lerp


@TRANSFORMS.register_module()
class CentralCropResize(BaseTransform):
    """TF-slim's ``preprocess_for_eval`` for Inception: the central
    ``fraction`` of the image (``tf.image.central_crop``), resized to
    ``size x size`` with TF1's bilinear resize (no half-pixel offset, no
    antialiasing), in float32 without rounding back to uint8.

    The result keeps the 0-255 range; a data preprocessor with mean = std
    = 127.5 then gives TF-slim's ``(x / 255 - 0.5) * 2``. torchvision and
    mmpretrain instead resize the short side to 342 and crop 299 from
    uint8 pixels, which shifts every pixel slightly for these weights.

    Required keys: ``img``. Modified keys: ``img``, ``img_shape``.

    Args:
        fraction (float): Kept fraction of each side, TF-slim's
            ``central_fraction`` (0.875).
        size (int): Output side (299).

    Example:
        >>> import numpy as np
        >>> img = np.zeros((375, 500, 3), np.uint8)
        >>> out = CentralCropResize(0.875, 299)(dict(img=img))['img']
        >>> out.shape, out.dtype
        ((299, 299, 3), dtype('float32'))
    """

    def __init__(self, fraction: float = 0.875, size: int = 299) -> None:
        if not 0 < fraction <= 1:
            raise ValueError(f'CentralCropResize fraction={fraction}: use a '
                             'fraction of each side in (0, 1]')
        self.fraction = fraction
        self.size = size

    def transform(self, results: dict) -> dict:
        img = results['img']
        top, left, height, width = central_crop_box(*img.shape[:2],
                                                    self.fraction)
        crop = img[top:top + height, left:left + width]
        results['img'] = legacy_resize_bilinear(crop, self.size)
        results['img_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(fraction={self.fraction}, '
                f'size={self.size})')
