from .inception_v3 import InceptionV3

__all__ = ['InceptionV3']
