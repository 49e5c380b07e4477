from .inference import ImagePredictor, init_model

__all__ = ['ImagePredictor', 'init_model']
