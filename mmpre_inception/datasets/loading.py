"""Image loading that names the file and the reason when an image is bad.

mmcv's ``LoadImageFromFile`` decodes a truncated JPEG into a half-grey image
without complaint, and fails on a non-image with an assertion raised from a
data-loader worker. Ours, :class:`LoadImageFromFile` (mmcv's name, so
that mmpretrain's tools find the loader of a pipeline: verify_dataset,
the inferencers), decodes exactly as mmcv's does (OpenCV, BGR, same
pixels), but checks the header first (Pillow) and raises
:class:`UnreadableImageError` with the path and the reason. With
``skip_unreadable=True`` it logs the path and drops the sample instead;
:class:`SkipUnreadableImages` and :func:`collate_skipping_unreadable` carry
the drop through the data loader, and ``tools/*.py --skip-unreadable`` sets
all three up.
"""
import io
import warnings
from typing import NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.dataset import pseudo_collate
from mmengine.logging import print_log

from mmpre_inception.errors import UnreadableImageError
from mmpre_inception.registry import DATASETS, TRANSFORMS


#: Decoded pixels allowed per image, checked before decoding: 16x the
#: largest of the 1000-image ImageNet sample (2400 x 1600, 3.8 million);
#: a decompression bomb (a few megabytes of JPEG that decode to 20000 x
#: 20000) has 400 million.
DEFAULT_MAX_PIXELS = 64_000_000
#: Longer side / shorter side allowed: a 1 x 5000 strip is a few hundred
#: bytes but takes gigabytes after a short-edge resize to 342. The most
#: elongated image of the ImageNet sample is 3.4:1.
DEFAULT_MAX_ASPECT_RATIO = 40.0

_EXIF_ORIENTATION = 0x0112


class ImageHeader(NamedTuple):
    """What an image file's header says, read by Pillow without decoding."""
    #: Pillow's name of the format (``'JPEG'``, ``'PNG'``, ...).
    format: str
    #: (height, width) as stored, before the EXIF orientation turns it.
    size: Tuple[int, int]
    #: Pillow's mode (``'L'``, ``'RGB'``, ``'CMYK'``, ...).
    mode: str
    #: EXIF orientation, 1 when upright or absent; 5 to 8 swap width and
    #: height.
    orientation: int
    #: JPEG: where the first scan's data starts, after every header
    #: segment (an EXIF thumbnail's included); None for other formats.
    scan_start: Optional[int]

    @property
    def decoded_size(self) -> Tuple[int, int]:
        """(height, width) of the decoded image, turned as its EXIF
        orientation says (OpenCV turns the pixels so)."""
        return self.size[::-1] if self.orientation >= 5 else self.size


# Magic numbers of the formats OpenCV decodes, and Pillow's names for them.
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
    """The image format ``data`` starts with, or None: what a message
    names where even the header does not parse (a JPEG cut short)."""
    for signature, name in _SIGNATURES:
        if data.startswith(signature):
            return name
    return None


def read_header(data: bytes) -> Optional[ImageHeader]:
    """The header of the encoded image ``data``, read by Pillow without
    decoding; None when Pillow cannot parse one (the decoder then has the
    last word).

    Example:
        >>> header = read_header(open('demo/star.jpg', 'rb').read())
        >>> header.format, header.size  # doctest: +SKIP
        ('JPEG', (128, 128))
    """
    from PIL import Image
    Image.init()
    stream = io.BytesIO(data)
    image_format = sniff_format(data)
    try:
        if image_format in Image.OPEN:
            # The format's own opener: Image.open refuses a header of over
            # twice Image.MAX_IMAGE_PIXELS without saying its size, and the
            # pixel limit is max_pixels, checked on the size (a
            # decompression bomb is named with its width and height).
            image = Image.OPEN[image_format][0](stream)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore',
                                      Image.DecompressionBombWarning)
                image = Image.open(stream)
    except Exception:  # noqa: BLE001 (any parse failure, a bomb included)
        return None
    with image:
        # Pillow's lazy open reads a JPEG's segments up to the start of its
        # first scan and stops there.
        scan_start = stream.tell() if image.format == 'JPEG' else None
        try:
            orientation = int(image.getexif().get(_EXIF_ORIENTATION, 1))
        except Exception:  # noqa: BLE001 (a broken EXIF block: upright)
            orientation = 1
        width, height = image.size
        return ImageHeader(image.format, (height, width), image.mode,
                           orientation if 1 <= orientation <= 8 else 1,
                           scan_start)


def read_image(path: str,
               max_pixels: Optional[int] = DEFAULT_MAX_PIXELS,
               max_aspect_ratio: Optional[float] = DEFAULT_MAX_ASPECT_RATIO
               ) -> np.ndarray:
    """Read an image file as a BGR ``uint8`` array of shape (H, W, 3).

    Grayscale, CMYK, 16-bit and palette images come out as 3-channel 8-bit
    BGR; the format is taken from the content, not the file name. The size
    the header declares (read by Pillow) is checked against ``max_pixels`` and
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
    data, header = read_checked_bytes(path, max_pixels, max_aspect_ratio)
    return decode_with_opencv(path, data, header)


def read_checked_bytes(path: str,
                       max_pixels: Optional[int] = DEFAULT_MAX_PIXELS,
                       max_aspect_ratio: Optional[float] =
                       DEFAULT_MAX_ASPECT_RATIO) -> Tuple[
                           bytes, Optional[ImageHeader]]:
    """An image file's bytes and header, after every check
    :func:`read_image` makes before decoding (missing, empty, truncated,
    over the pixel budget or the aspect-ratio limit).

    Returns:
        tuple: The bytes, and their :class:`ImageHeader` (None where Pillow
        cannot parse one).

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
    header = read_header(data)
    _check_complete(path, data, header)
    if header is not None:
        _check_size(path, header.size, max_pixels, max_aspect_ratio)
    return data, header


def decode_with_opencv(path: str, data: bytes,
                       header: Optional[ImageHeader]) -> np.ndarray:
    """Decode as mmcv's ``LoadImageFromFile`` does (OpenCV, BGR, EXIF
    orientation applied).

    Raises:
        UnreadableImageError: OpenCV cannot decode it; names ``path``.
    """
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        image_format = header.format if header else sniff_format(data)
        what = f'{image_format} data OpenCV cannot decode' if image_format \
            else f'not an image (starts with bytes {data[:8].hex()})'
        raise UnreadableImageError(f'cannot read image {path}: {what}')
    return image


def _check_complete(path: str, data: bytes,
                    header: Optional[ImageHeader]) -> None:
    """Refuse a JPEG or PNG cut short: OpenCV decodes those without an
    error, the missing part grey."""
    image_format = header.format if header else sniff_format(data)
    if image_format == 'JPEG':
        # The end-of-image marker must follow the first scan. Bytes after
        # it (padding, a camera's trailer) are allowed, as every decoder
        # allows them; an EXIF thumbnail's own marker, before the scan,
        # does not count. A header cut short has no scan.
        scan_start = header.scan_start if header else 0
        if data.find(b'\xff\xd9', scan_start) < 0:
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
            '(raise max_pixels of LoadImageFromFile in the config if '
            'the image is genuine)')
    if max_aspect_ratio is not None and min(size) > 0 and \
            max(size) / min(size) > max_aspect_ratio:
        raise UnreadableImageError(
            f'cannot read image {path}: {width}x{height} has an aspect '
            f'ratio over the limit of {max_aspect_ratio:g} (raise '
            'max_aspect_ratio of LoadImageFromFile in the config if '
            'the image is genuine)')


@TRANSFORMS.register_module()
class LoadImageFromFile(BaseTransform):
    """Load ``results['img_path']`` like mmcv's ``LoadImageFromFile``, but
    stop with the path and the reason when the image is bad.

    It has mmcv's name in our registry scope (as our ``InceptionV3`` has
    mmpretrain's), so that mmpretrain's tools treat it as the pipeline's
    loader; mmcv's own stays what it is.

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
        >>> pipeline = [dict(type=LoadImageFromFile),
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
            # Already decoded (an array handed to an inferencer).
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
    (an image :class:`LoadImageFromFile` skipped) reaches the data
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
