"""Decoding a batch of files on the device (nvJPEG through torchvision on
a GPU, libjpeg-turbo on the CPU) and replaying the pipeline's geometry on
it: the pixel half of ``--gpu-decode`` (the other half, in the data
workers, is :mod:`.device_transforms`).

The result is what the CPU pipeline gives, in its layout (BGR, as OpenCV
decodes): on the CPU bit for bit (torchvision and OpenCV both decode with
libjpeg-turbo, and the resize is OpenCV's arithmetic), on a GPU within
nvJPEG's difference from libjpeg (a level at some pixels). Files the
device decoder would get wrong or cannot read are decoded by OpenCV,
exactly as the CPU path does: formats other than JPEG, CMYK JPEGs, JPEGs
whose EXIF orientation asks for a turn (nvJPEG ignores it), and any JPEG
the device decoder rejects.
"""
from typing import List, Optional, Sequence, Tuple

import torch
from torchvision.io import ImageReadMode, decode_jpeg

from .device_transforms import cpu_decoding_reason
from .loading import decode_with_opencv, read_header


def decode_on_device(encoded: Sequence[torch.Tensor], device: torch.device,
                     paths: Sequence[str],
                     reasons: Optional[Sequence[Optional[str]]] = None
                     ) -> Tuple[List[torch.Tensor], List[Optional[str]]]:
    """Decode files to BGR uint8 ``(3, H, W)`` tensors on ``device``.

    Args:
        encoded (Sequence[Tensor]): The files, 1-D uint8 CPU tensors.
        device (torch.device): Where the JPEGs are decoded and the images
            end up.
        paths (Sequence[str]): The files' paths, for error messages.
        reasons (Sequence[str | None], optional): Which files go to OpenCV
            and why, as ``LoadImageBytesChecked`` worked them out in the
            data workers (``cpu_decoding``); without them they are worked
            out here from the bytes.

    Returns:
        tuple: The images, and for each why it went to OpenCV (None where
        the device decoded it).

    Raises:
        UnreadableImageError: OpenCV cannot decode a file either.
    """
    device = torch.device(device)
    if reasons is None:
        reasons = [cpu_decoding_reason(read_header(data.numpy().tobytes()))
                   for data in encoded]
    reasons = list(reasons)
    images: List[Optional[torch.Tensor]] = [None] * len(encoded)
    jpegs = [i for i, reason in enumerate(reasons) if reason is None]
    if jpegs:
        batch = [encoded[i].contiguous() for i in jpegs]
        try:
            decoded = decode_jpeg(batch, mode=ImageReadMode.RGB,
                                  device=device)
        except RuntimeError:
            # One file the device rejects fails the batch: one at a time.
            decoded = []
            for data in batch:
                try:
                    decoded.append(decode_jpeg(data, mode=ImageReadMode.RGB,
                                               device=device))
                except RuntimeError:
                    decoded.append(None)
        for i, image in zip(jpegs, decoded):
            if image is None:
                reasons[i] = 'rejected by the device decoder'
            else:
                images[i] = image.flip(0)  # RGB -> BGR, as OpenCV gives
    for i, image in enumerate(images):
        if image is None:
            raw = encoded[i].numpy().tobytes()
            bgr = decode_with_opencv(paths[i], raw, read_header(raw))
            images[i] = torch.from_numpy(bgr).permute(2, 0, 1).to(device)
    return images, reasons


# OpenCV's fixed-point bilinear weights: 11 bits (INTER_RESIZE_COEF_BITS).
_WEIGHT_ONE = 2048


def _bilinear_taps(source: int, target: int, device: torch.device,
                   clamp_weights: bool):
    """OpenCV's ``INTER_LINEAR`` source indices and 11-bit weights along
    one axis. Columns outside the image take the border pixel with weight
    one; rows keep their fractional weights over a clamped index (what
    ``cv::resize`` does, which matters at the first and last rows)."""
    position = ((torch.arange(target, dtype=torch.float64, device=device) +
                 0.5) * (source / target) - 0.5).to(torch.float32)
    first = torch.floor(position)
    fraction = position - first
    first = first.long()
    second = (first + 1).clamp(0, source - 1)
    outside = (first < 0) | (first >= source - 1)
    if clamp_weights:
        fraction = torch.where(outside, torch.zeros_like(fraction), fraction)
    first = first.clamp(0, source - 1)
    weight_first = torch.round((1 - fraction) * _WEIGHT_ONE).to(torch.int32)
    weight_second = torch.round(fraction * _WEIGHT_ONE).to(torch.int32)
    return first, second, weight_first, weight_second


def resize_bilinear(image: torch.Tensor, size: Tuple[int, int]
                    ) -> torch.Tensor:
    """A ``(C, H, W)`` uint8 image resized to ``size`` (h, w) exactly as
    OpenCV's ``cv2.resize(..., INTER_LINEAR)`` resizes uint8 images (what
    mmcv's ``imresize`` and so mmpretrain's transforms call): its 11-bit
    weights, a horizontal pass in integers, then its vector code's
    vertical pass, ``((S0 >> 4) * b0 >> 16) + ((S1 >> 4) * b1 >> 16) + 2
    >> 2``. Bit for bit the same pixels on the ImageNet sample
    (``tests/test_device_decoding.py``), on any device.
    """
    height, width = image.shape[-2:]
    if (height, width) == tuple(size):
        return image
    x0, x1, a0, a1 = _bilinear_taps(width, size[1], image.device, True)
    y0, y1, b0, b1 = _bilinear_taps(height, size[0], image.device, False)

    def horizontal(source_rows: torch.Tensor) -> torch.Tensor:
        pixels = image.index_select(1, source_rows).to(torch.int32)
        return (pixels.index_select(2, x0) * a0 +
                pixels.index_select(2, x1) * a1) >> 4

    # Only the source rows the output reads, each once per output row (the
    # same integers as OpenCV's row buffer).
    top = horizontal(y0).mul_(b0[:, None]) >> 16
    bottom = horizontal(y1).mul_(b1[:, None]) >> 16
    return ((top + bottom + 2) >> 2).clamp_(0, 255).to(torch.uint8)


def apply_device_ops(image: torch.Tensor, ops: Sequence) -> torch.Tensor:
    """Replay :mod:`.device_transforms`' ``device_ops`` on a decoded
    ``(3, H, W)`` image: ``('resize', (h, w))``, ``('crop', (top, left,
    h, w))``, ``('flip', 'horizontal' | 'vertical')``, in order."""
    for op, argument in ops:
        if op == 'resize':
            image = resize_bilinear(image, argument)
        elif op == 'crop':
            top, left, height, width = argument
            image = image[:, top:top + height, left:left + width]
        elif op == 'flip':
            image = image.flip(-1 if argument == 'horizontal' else -2)
        else:
            raise ValueError(f'unknown device operation {op!r}')
    return image
