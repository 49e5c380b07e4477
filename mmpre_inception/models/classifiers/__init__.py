from .inception_classifier import InceptionClassifier

__all__ = ['InceptionClassifier']
