from .inception_v3_head import InceptionAux, InceptionV3Head

__all__ = ['InceptionAux', 'InceptionV3Head']
