from .annotations import (AnnotationError, check_annotation_file,
                          check_config_annotations,
                          check_dataset_annotations, config_class_names)
from .device_transforms import (DEVICE_KEYS, DEVICE_META_KEYS,
                                CenterCropOnDevice,
                                LoadImageBytesChecked, RandomFlipOnDevice,
                                RandomResizedCropOnDevice, ResizeEdgeOnDevice)
from .imagenet import ImageNet
from .loading import (LoadImageFromFile, SkipUnreadableImages,
                      UnreadableImageError, collate_skipping_unreadable,
                      read_image)
from .multi_crop import PositionedCrop, SquareCrop
from .tf_slim import CentralCropResize

__all__ = [
    'AnnotationError', 'check_annotation_file', 'check_config_annotations',
    'check_dataset_annotations', 'config_class_names',
    'DEVICE_KEYS', 'DEVICE_META_KEYS', 'CenterCropOnDevice',
    'LoadImageBytesChecked',
    'RandomFlipOnDevice', 'RandomResizedCropOnDevice', 'ResizeEdgeOnDevice',
    'ImageNet', 'LoadImageFromFile', 'SkipUnreadableImages',
    'UnreadableImageError', 'collate_skipping_unreadable', 'read_image',
    'PositionedCrop', 'SquareCrop', 'CentralCropResize'
]
