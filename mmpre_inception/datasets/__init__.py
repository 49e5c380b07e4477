from .synthetic import SHAPES, make_synthetic_imagenet, render_image

__all__ = ['SHAPES', 'make_synthetic_imagenet', 'render_image']
