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
import io
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.dataset import pseudo_collate
from mmengine.logging import print_log

from mmpre_inception.errors import UnreadableImageError
from mmpre_inception.registry import DATASETS, TRANSFORMS


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


#: Decoded pixels allowed per image, checked before decoding: 16x the
#: largest of the 1000-image ImageNet sample (2400 x 1600, 3.8 million);
#: a decompression bomb (a few megabytes of JPEG that decode to 20000 x
#: 20000) has 400 million.
DEFAULT_MAX_PIXELS = 64_000_000
#: Longer side / shorter side allowed: a 1 x 5000 strip is a few hundred
#: bytes but takes gigabytes after a short-edge resize to 342. The most
#: elongated image of the ImageNet sample is 3.4:1.
DEFAULT_MAX_ASPECT_RATIO = 40.0

# JPEG markers without a length field: TEM, RST0..RST7, SOI, EOI.
_STANDALONE_MARKERS = {0x01, *range(0xD0, 0xD9)}
# Start-of-frame markers, which carry the image size (not DHT, JPG, DAC).
_FRAME_MARKERS = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def jpeg_header(data: bytes) -> Tuple[Optional[int], Optional[
        Tuple[int, int]], Optional[int]]:
    """Where a JPEG's first scan starts, its (height, width) and its number
    of colour components (1 grey, 3 YCbCr, 4 CMYK/YCCK), from its marker
    segments; None for what a header that does not parse leaves unsaid
    (the decoder then has the last word)."""
    position, size, components = 2, None, None
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None, size, components
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in _STANDALONE_MARKERS:
            position += 2
            continue
        if marker == 0xDA:  # start of scan
            return position, size, components
        length = int.from_bytes(data[position + 2:position + 4], 'big')
        if marker in _FRAME_MARKERS and position + 10 <= len(data):
            size = (int.from_bytes(data[position + 5:position + 7], 'big'),
                    int.from_bytes(data[position + 7:position + 9], 'big'))
            components = data[position + 9]
        position += 2 + length
    return None, size, components


_EXIF_ORIENTATION = 0x0112


def exif_orientation(data: bytes) -> int:
    """A JPEG's EXIF orientation (1 upright; 5 to 8 swap width and
    height), read from the header, not decoded; 1 without one."""
    if b'Exif' not in data[:65536]:  # EXIF lives in APP1, near the start
        return 1
    from PIL import Image
    try:
        with Image.open(io.BytesIO(data)) as image:
            return int(image.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:  # noqa: BLE001 (a broken header: the decoder decides)
        return 1


def image_size(data: bytes, image_format: Optional[str]) -> Optional[
        Tuple[int, int]]:
    """The (height, width) an encoded image declares in its header, without
    decoding it; None when the header does not say."""
    if image_format == 'JPEG':
        return jpeg_header(data)[1]
    if image_format == 'PNG' and len(data) >= 24 and data[12:16] == b'IHDR':
        return (int.from_bytes(data[20:24], 'big'),
                int.from_bytes(data[16:20], 'big'))
    if image_format is None:
        return None
    # Other formats: Pillow reads the header only (``open`` is lazy).
    from PIL import Image
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except Exception:  # noqa: BLE001 (any parse failure: let OpenCV decide)
        return None
    return height, width


def read_image(path: str,
               max_pixels: Optional[int] = DEFAULT_MAX_PIXELS,
               max_aspect_ratio: Optional[float] = DEFAULT_MAX_ASPECT_RATIO
               ) -> np.ndarray:
    """Read an image file as a BGR ``uint8`` array of shape (H, W, 3).

    Grayscale, CMYK, 16-bit and palette images come out as 3-channel 8-bit
    BGR; the format is taken from the content, not the file name. The size
    the header declares is checked against ``max_pixels`` and
    ``max_aspect_ratio`` before anything is decoded.

    Args:
        path (str): Image file.
        max_pixels (int, optional): Most pixels an image may have; None for
            no limit. Defaults to :data:`DEFAULT_MAX_PIXELS`.
        max_aspect_ratio (float, optional): Most longer side / shorter side;
            None for no limit. Defaults to
            :data:`DEFAULT_MAX_ASPECT_RATIO`.

    Returns:
        np.ndarray: The decoded image, as mmcv's ``LoadImageFromFile``
        (OpenCV backend, ``color_type='color'``) would return it.

    Raises:
        UnreadableImageError: The file is missing, empty, truncated, not an
            image or over the limits, with the path and the reason in the
            message.

    Example:
        >>> img = read_image('demo.JPEG')  # doctest: +SKIP
        >>> img.shape, img.dtype
        ((375, 500, 3), dtype('uint8'))
    """
    data, image_format = read_checked_bytes(path, max_pixels,
                                            max_aspect_ratio)
    return decode_with_opencv(path, data, image_format)


def read_checked_bytes(path: str,
                       max_pixels: Optional[int] = DEFAULT_MAX_PIXELS,
                       max_aspect_ratio: Optional[float] =
                       DEFAULT_MAX_ASPECT_RATIO) -> Tuple[bytes,
                                                          Optional[str]]:
    """An image file's bytes and format, after every check
    :func:`read_image` makes before decoding (missing, empty, truncated,
    over the pixel budget or the aspect-ratio limit).

    Raises:
        UnreadableImageError: As :func:`read_image`.
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
    _check_complete(path, data, image_format)
    size = image_size(data, image_format)
    if size is not None:
        _check_size(path, size, max_pixels, max_aspect_ratio)
    return data, image_format


def decode_with_opencv(path: str, data: bytes,
                       image_format: Optional[str]) -> np.ndarray:
    """Decode as mmcv's ``LoadImageFromFile`` does (OpenCV, BGR, EXIF
    orientation applied).

    Raises:
        UnreadableImageError: OpenCV cannot decode it; names ``path``.
    """
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        what = f'{image_format} data OpenCV cannot decode' if image_format \
            else f'not an image (starts with bytes {data[:8].hex()})'
        raise UnreadableImageError(f'cannot read image {path}: {what}')
    return image


def _check_complete(path: str, data: bytes,
                    image_format: Optional[str]) -> None:
    """Refuse a JPEG or PNG cut short: OpenCV decodes those without an
    error, the missing part grey."""
    if image_format == 'JPEG':
        # The end-of-image marker must follow the first scan. Bytes after
        # it (padding, a camera's trailer) are allowed, as every decoder
        # allows them; an EXIF thumbnail's own marker, before the scan,
        # does not count.
        scan, _, _ = jpeg_header(data)
        end = data.find(b'\xff\xd9', scan) if scan is not None else \
            data.rfind(b'\xff\xd9')
        if end < 0:
            raise UnreadableImageError(
                f'cannot read image {path}: truncated JPEG (no end-of-image '
                f'marker after {len(data)} bytes)')
    if image_format == 'PNG' and b'IEND' not in data[-16:] and \
            b'IEND\xaeB`\x82' not in data:
        raise UnreadableImageError(
            f'cannot read image {path}: truncated PNG (no IEND chunk after '
            f'{len(data)} bytes)')


def _check_size(path: str, size: Tuple[int, int],
                max_pixels: Optional[int],
                max_aspect_ratio: Optional[float]) -> None:
    height, width = size
    if max_pixels is not None and height * width > max_pixels:
        raise UnreadableImageError(
            f'cannot read image {path}: {width}x{height} is '
            f'{height * width:,} pixels, over the limit of {max_pixels:,} '
            '(raise max_pixels of LoadImageFromFileChecked in the config if '
            'the image is genuine)')
    if max_aspect_ratio is not None and min(size) > 0 and \
            max(size) / min(size) > max_aspect_ratio:
        raise UnreadableImageError(
            f'cannot read image {path}: {width}x{height} has an aspect '
            f'ratio over the limit of {max_aspect_ratio:g} (raise '
            'max_aspect_ratio of LoadImageFromFileChecked in the config if '
            'the image is genuine)')


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
        max_pixels (int, optional): Pixel budget per image, checked from
            the header before decoding (a decompression bomb is refused,
            or skipped and counted with ``skip_unreadable``). None for no
            limit. Defaults to :data:`DEFAULT_MAX_PIXELS`.
        max_aspect_ratio (float, optional): Most longer side / shorter
            side, likewise. Defaults to :data:`DEFAULT_MAX_ASPECT_RATIO`.

    Example:
        >>> pipeline = [dict(type=LoadImageFromFileChecked),
        ...             dict(type='PackInputs')]
    """

    def __init__(self,
                 skip_unreadable: bool = False,
                 to_float32: bool = False,
                 max_pixels: Optional[int] = DEFAULT_MAX_PIXELS,
                 max_aspect_ratio: Optional[float] = DEFAULT_MAX_ASPECT_RATIO
                 ) -> None:
        self.skip_unreadable = skip_unreadable
        self.to_float32 = to_float32
        self.max_pixels = max_pixels
        self.max_aspect_ratio = max_aspect_ratio

    def transform(self, results: dict) -> Optional[dict]:
        if 'img_path' not in results and 'img' in results:
            # Already decoded: mmpretrain's inferencers decode the image
            # themselves and drop only a loader named LoadImageFromFile.
            return results
        try:
            image = read_image(results['img_path'], self.max_pixels,
                               self.max_aspect_ratio)
        except UnreadableImageError as error:
            if not self.skip_unreadable:
                raise
            return self.skipped(error)
        if self.to_float32:
            image = image.astype(np.float32)
        results['img'] = image
        results['img_shape'] = image.shape[:2]
        results['ori_shape'] = image.shape[:2]
        return results

    @staticmethod
    def skipped(error: UnreadableImageError) -> None:
        """Log a skipped image; None drops the sample."""
        print_log(f'skipped: {error}', logger='current',
                  level=30)  # logging.WARNING
        return None

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(skip_unreadable='
                f'{self.skip_unreadable}, to_float32={self.to_float32}, '
                f'max_pixels={self.max_pixels}, '
                f'max_aspect_ratio={self.max_aspect_ratio})')


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
