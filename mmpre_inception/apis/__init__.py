from .inference import ImageClassifier

__all__ = ['ImageClassifier']
