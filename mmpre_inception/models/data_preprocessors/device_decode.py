"""mmpretrain's data preprocessor with the images decoded on the device
(``--gpu-decode``)."""
from collections import Counter

import torch
from mmengine.logging import print_log
from mmpretrain.models.utils import ClsDataPreprocessor

from mmpre_inception.datasets.device_decoding import (apply_device_ops,
                                                      decode_on_device)
from mmpre_inception.registry import MODELS


@MODELS.register_module()
class DeviceDecodeDataPreprocessor(ClsDataPreprocessor):
    """``ClsDataPreprocessor`` that first decodes the files the data loader
    read (``LoadImageBytesChecked``) on its device, and replays on them
    the geometry the ``*OnDevice`` transforms drew in the data workers.

    The decoded batch is what the CPU pipeline gives (BGR uint8, the same
    crop boxes and flips), so ``to_rgb``, ``mean``, ``std`` and the batch
    augments (Mixup / CutMix) mean what they mean in the CPU config.
    Batches of decoded images (the CPU pipeline) pass through unchanged.
    Files decoded by OpenCV instead of the device are counted and logged.

    Args:
        **kwargs: ``ClsDataPreprocessor``'s arguments.

    Example:
        >>> data_preprocessor = dict(
        ...     type='mmpre_inception.DeviceDecodeDataPreprocessor',
        ...     mean=[123.675, 116.28, 103.53],
        ...     std=[58.395, 57.12, 57.375], to_rgb=True)
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.decoded = 0
        self.cpu_decoded = Counter()

    def forward(self, data: dict, training: bool = False) -> dict:
        inputs = data['inputs']
        if isinstance(inputs, list) and inputs and inputs[0].dim() == 1:
            data = dict(data, inputs=self.decode(inputs,
                                                 data['data_samples']))
        return super().forward(data, training)

    def decode(self, encoded, data_samples):
        """The batch decoded and its geometry applied: one uint8 tensor
        (N, 3, H, W) when the images are one size, else a list."""
        known = all('cpu_decoding' in sample for sample in data_samples)
        images, reasons = decode_on_device(
            encoded, self.device,
            [sample.get('img_path', '<unknown>') for sample in data_samples],
            [sample.cpu_decoding for sample in data_samples]
            if known else None)
        images = [apply_device_ops(image, sample.device_ops)
                  for image, sample in zip(images, data_samples)]
        self.decoded += len(images)
        fallbacks = Counter(reason for reason in reasons if reason)
        if fallbacks:
            first = not self.cpu_decoded
            self.cpu_decoded.update(fallbacks)
            total = sum(self.cpu_decoded.values())
            # The first time, then at each power of two: a count that
            # stays readable on a data set of PNGs.
            if first or total & (total - 1) == 0:
                kinds = ', '.join(f'{count} {reason}' for reason, count in
                                  sorted(self.cpu_decoded.items()))
                print_log(f'--gpu-decode: {total} of {self.decoded} images '
                          f'so far decoded by OpenCV on the CPU ({kinds})',
                          logger='current')
        if len({tuple(image.shape) for image in images}) == 1:
            return torch.stack(images)
        return images
