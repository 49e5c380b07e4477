"""The evaluation pipeline (decode, resize the short edge, centre crop) on
tensors with torchvision, so that JPEG decoding and resizing can run on a
GPU (nvJPEG) instead of in CPU data workers.

It follows mmpretrain's test pipeline (``ResizeEdge`` then ``CenterCrop``)
size for size, but the pixels are not bit-identical to OpenCV's: libjpeg
builds and bilinear rounding differ by a few levels at some pixels
(``tests/test_torch_decoding.py`` bounds it). ``tools/test.py`` keeps
OpenCV; ``tools/analysis_tools/benchmark.py --decoder torchvision`` times
this path.
"""
import io
import os.path as osp
from typing import List, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset
from torchvision.io import ImageReadMode, decode_image, decode_jpeg

JPEG_MAGIC = b'\xff\xd8'
_EXIF_ORIENTATION = 0x0112
Encoded = Union[bytes, torch.Tensor]


class EncodedImages(Dataset):
    """The files of an mmpretrain annotation file (``name label`` lines),
    read but not decoded. Check the file first with
    :func:`~mmpre_inception.datasets.check_annotation_file`, which names
    a bad line.

    Args:
        ann_file (str): Annotation file.
        data_prefix (str): Folder the names are relative to.

    Example:
        >>> images = EncodedImages('meta/val.txt', 'val')  # doctest: +SKIP
        >>> data, label = images[0]  # the file's bytes, int label
    """

    def __init__(self, ann_file: str, data_prefix: str) -> None:
        with open(ann_file, encoding='utf-8') as f:
            # As mmpretrain reads them: names may hold spaces.
            rows = [line.strip().rsplit(' ', 1) for line in f]
        self.samples = [(osp.join(data_prefix, name), int(label))
                        for name, label in rows]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> Tuple[bytes, int]:
        # bytes, not tensors: data workers pass every tensor through a
        # file descriptor of its own, and a few hundred small ones in
        # flight exhaust them.
        path, label = self.samples[index]
        with open(path, 'rb') as f:
            return f.read(), label


def collate_encoded(
        batch: Sequence[Tuple[bytes,
                              int]]) -> Tuple[List[bytes], torch.Tensor]:
    """DataLoader ``collate_fn`` for :class:`EncodedImages`: the files stay
    a list (their lengths differ), the labels become a tensor."""
    return [data
            for data, _ in batch], torch.tensor([label for _, label in batch])


def exif_rotated(data: bytes) -> bool:
    """Whether a JPEG's EXIF orientation asks for a rotation or a flip
    (anything but orientation 1); read from the header, not decoded."""
    if b'Exif' not in data[:65536]:  # EXIF lives in APP1, near the start
        return False
    from PIL import Image
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.getexif().get(_EXIF_ORIENTATION, 1) != 1
    except Exception:  # noqa: BLE001 (a broken header: the decoder decides)
        return False


def decode_rgb(encoded: List[Encoded],
               device: torch.device) -> List[torch.Tensor]:
    """Decode files to 3-channel RGB uint8 ``(3, H, W)`` tensors, turned
    as their EXIF orientation says (as OpenCV's decoder does).

    JPEGs are decoded together on ``device`` (nvJPEG on a GPU); other
    formats, JPEGs the GPU decoder rejects (CMYK) and, on a GPU, JPEGs
    with an EXIF rotation (nvJPEG ignores it) are decoded on the CPU and
    moved there.
    """
    device = torch.device(device)
    encoded = [
        torch.frombuffer(bytearray(data), dtype=torch.uint8) if isinstance(
            data, bytes) else data for data in encoded
    ]
    is_jpeg = [bytes(data[:2].tolist()) == JPEG_MAGIC for data in encoded]
    if device.type != 'cpu':
        is_jpeg = [flag and not exif_rotated(data.numpy().tobytes())
                   for flag, data in zip(is_jpeg, encoded)]
    images: List[torch.Tensor] = [None] * len(encoded)
    jpegs = [i for i, flag in enumerate(is_jpeg) if flag]
    if jpegs:
        try:
            decoded = decode_jpeg([encoded[i] for i in jpegs],
                                  mode=ImageReadMode.RGB,
                                  device=device,
                                  apply_exif_orientation=True)
        except RuntimeError:
            # One bad or unsupported JPEG fails the whole batch; decode
            # them one at a time on the CPU instead.
            decoded = [None] * len(jpegs)
        for i, image in zip(jpegs, decoded):
            images[i] = image
    for i, image in enumerate(images):
        if image is None:
            images[i] = decode_image(encoded[i],
                                     mode=ImageReadMode.RGB,
                                     apply_exif_orientation=True).to(device)
    return images


def resize_short_edge_and_crop(image: torch.Tensor, short_edge: int,
                               crop: int) -> torch.Tensor:
    """mmpretrain's ``ResizeEdge(short_edge, edge='short')`` and
    ``CenterCrop(crop)`` on one ``(3, H, W)`` uint8 image: the same sizes
    and crop box, bilinear interpolation without antialiasing (as OpenCV's
    ``INTER_LINEAR``)."""
    height, width = image.shape[-2:]
    if width < height:
        size = (int(short_edge * height / width), short_edge)
    else:
        size = (short_edge, int(short_edge * width / height))
    resized = F.interpolate(image[None].float(),
                            size=size,
                            mode='bilinear',
                            align_corners=False).round_().clamp_(0, 255)[0]
    height, width = size
    crop_h, crop_w = min(crop, height), min(crop, width)
    top = max(0, int(round((height - crop_h) / 2.)))
    left = max(0, int(round((width - crop_w) / 2.)))
    return resized[:, top:top + crop_h, left:left + crop_w].to(torch.uint8)


def decode_batch(encoded: List[Encoded],
                 device: torch.device,
                 short_edge: int = 342,
                 crop: int = 299) -> torch.Tensor:
    """Decode, resize and centre-crop a batch of files on ``device``.

    Args:
        encoded (list[bytes | Tensor]): The files' contents, as bytes or
            uint8 tensors (``torchvision.io.read_file``).
        device (torch.device): Where to decode and resize.
        short_edge (int): Resize the short edge to this. Defaults to 342.
        crop (int): Centre crop size. Defaults to 299.

    Returns:
        Tensor: ``(N, 3, crop, crop)`` RGB uint8 on ``device``.

    Example:
        >>> with open('a.JPEG', 'rb') as f:  # doctest: +SKIP
        ...     batch = decode_batch([f.read()], 'cpu')
        >>> batch.shape
        torch.Size([1, 3, 299, 299])
    """
    return torch.stack([
        resize_short_edge_and_crop(image, short_edge, crop)
        for image in decode_rgb(encoded, device)
    ])
