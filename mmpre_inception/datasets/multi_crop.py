"""The crops of multi-crop evaluation (AlexNet's 10 crops, GoogLeNet's
144), one crop per transform, so that mmcv's ``TestTimeAug`` forms every
combination of scale, square, position and mirror from a config."""
import mmcv
from mmcv.transforms import BaseTransform

from mmpre_inception.registry import TRANSFORMS


def _with_image(results: dict, img) -> dict:
    results['img'] = img
    results['img_shape'] = img.shape[:2]
    return results


@TRANSFORMS.register_module()
class SquareCrop(BaseTransform):
    """The square of side the shorter edge at the start, middle or end of
    the longer edge: left, centre or right of a landscape image; top,
    middle or bottom of a portrait one (GoogLeNet's three squares per
    scale). A square image is returned as it is.

    Required keys: ``img``. Modified keys: ``img``, ``img_shape``.

    Args:
        position (str): ``'first'`` (left or top), ``'centre'`` or
            ``'last'`` (right or bottom).

    Example:
        >>> import numpy as np
        >>> img = np.zeros((300, 400, 3), np.uint8)
        >>> SquareCrop('last')(dict(img=img))['img'].shape
        (300, 300, 3)
    """

    POSITIONS = ('first', 'centre', 'last')

    def __init__(self, position: str = 'centre') -> None:
        if position not in self.POSITIONS:
            raise ValueError(f'SquareCrop position={position!r}: use one of '
                             f'{", ".join(self.POSITIONS)}')
        self.position = position

    def transform(self, results: dict) -> dict:
        img = results['img']
        height, width = img.shape[:2]
        side = min(height, width)
        spare = max(height, width) - side
        # the centre as mmcv's CenterCrop rounds it
        start = dict(first=0, centre=int(round(spare / 2)),
                     last=spare)[self.position]
        if width >= height:
            return _with_image(results, img[:, start:start + side])
        return _with_image(results, img[start:start + side])

    def __repr__(self) -> str:
        return f'{type(self).__name__}(position={self.position!r})'


@TRANSFORMS.register_module()
class PositionedCrop(BaseTransform):
    """A ``crop_size`` square at one of the fixed places of multi-crop
    evaluation: a corner, the centre (exactly mmcv's ``CenterCrop``), or
    the whole image resized to ``crop_size`` (GoogLeNet's sixth view of a
    square).

    Required keys: ``img``. Modified keys: ``img``, ``img_shape``.

    Args:
        position (str): ``'top_left'``, ``'top_right'``, ``'bottom_left'``,
            ``'bottom_right'``, ``'centre'`` or ``'whole'``.
        crop_size (int): Side of the crop, the network's input size.
        interpolation (str): mmcv interpolation for ``'whole'``.

    Example:
        >>> import numpy as np
        >>> img = np.arange(16, dtype=np.uint8).reshape(4, 4, 1)
        >>> crop = PositionedCrop('bottom_right', 2)(dict(img=img))['img']
        >>> crop[..., 0].tolist()
        [[10, 11], [14, 15]]
    """

    POSITIONS = ('top_left', 'top_right', 'bottom_left', 'bottom_right',
                 'centre', 'whole')

    def __init__(self,
                 position: str,
                 crop_size: int,
                 interpolation: str = 'bilinear') -> None:
        if position not in self.POSITIONS:
            raise ValueError(f'PositionedCrop position={position!r}: use '
                             f'one of {", ".join(self.POSITIONS)}')
        self.position = position
        self.crop_size = crop_size
        self.interpolation = interpolation

    def transform(self, results: dict) -> dict:
        img, size = results['img'], self.crop_size
        if self.position == 'whole':
            return _with_image(
                results,
                mmcv.imresize(img, (size, size),
                              interpolation=self.interpolation))
        height, width = img.shape[:2]
        if height < size or width < size:
            raise ValueError(
                f'PositionedCrop: a {width}x{height} image is smaller than '
                f'crop_size={size}; resize it first (ResizeEdge)')
        top = dict(top_left=0, top_right=0, bottom_left=height - size,
                   bottom_right=height - size,
                   centre=int(round((height - size) / 2)))[self.position]
        left = dict(top_left=0, bottom_left=0, top_right=width - size,
                    bottom_right=width - size,
                    centre=int(round((width - size) / 2)))[self.position]
        return _with_image(results, img[top:top + size, left:left + size])

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(position={self.position!r}, '
                f'crop_size={self.crop_size})')
