from .inception_classifier import InceptionClassifier, relocate_mmpretrain_keys

__all__ = ['InceptionClassifier', 'relocate_mmpretrain_keys']
