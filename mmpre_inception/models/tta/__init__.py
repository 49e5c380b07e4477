from .mean_softmax_tta import MeanSoftmaxTTA

__all__ = ['MeanSoftmaxTTA']
