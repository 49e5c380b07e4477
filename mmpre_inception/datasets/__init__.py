from .annotations import (AnnotationError, check_annotation_file,
                          check_config_annotations,
                          check_dataset_annotations)
from .loading import (LoadImageFromFileChecked, SkipUnreadableImages,
                      UnreadableImageError, collate_skipping_unreadable,
                      read_image)
from .synthetic import SHAPES, make_synthetic_imagenet, render_image

__all__ = [
    'AnnotationError', 'check_annotation_file', 'check_config_annotations',
    'check_dataset_annotations',
    'LoadImageFromFileChecked', 'SkipUnreadableImages',
    'UnreadableImageError', 'collate_skipping_unreadable', 'read_image',
    'SHAPES', 'make_synthetic_imagenet', 'render_image'
]
