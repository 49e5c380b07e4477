from .backbones import InceptionV3
from .classifiers import InceptionClassifier
from .data_preprocessors import DeviceDecodeDataPreprocessor
from .heads import InceptionAux, InceptionV3Head
from .necks import LastStageGAP
from .tta import MeanSoftmaxTTA

__all__ = [
    'InceptionV3', 'InceptionClassifier', 'DeviceDecodeDataPreprocessor',
    'InceptionAux', 'InceptionV3Head',
    'LastStageGAP', 'MeanSoftmaxTTA'
]
