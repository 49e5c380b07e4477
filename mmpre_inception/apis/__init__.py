from .inference import ImageClassifier, init_model

__all__ = ['ImageClassifier', 'init_model']
