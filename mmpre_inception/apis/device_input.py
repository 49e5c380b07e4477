"""``--gpu-decode``: a config's data pipelines rewritten so that the
data workers only read files and draw random choices, and the model's
data preprocessor decodes and transforms the batch on the GPU."""
from typing import Sequence

from mmengine.config import Config

from mmpre_inception.datasets import (DEVICE_KEYS, DEVICE_META_KEYS,
                                      CenterCropOnDevice,
                                      LoadImageBytesChecked,
                                      RandomFlipOnDevice,
                                      RandomResizedCropOnDevice,
                                      ResizeEdgeOnDevice)
from mmpre_inception.errors import ConfigError
from mmpre_inception.models import DeviceDecodeDataPreprocessor

# Each CPU step and its device twin; PackInputs is handled on its own.
_DEVICE_TWINS = {
    'LoadImageFromFile': LoadImageBytesChecked,
    'ResizeEdge': ResizeEdgeOnDevice,
    'CenterCrop': CenterCropOnDevice,
    'RandomResizedCrop': RandomResizedCropOnDevice,
    'RandomFlip': RandomFlipOnDevice,
}
# Why a step stays on the CPU, for the message that refuses it.
_CPU_ONLY = {
    'RandAugment': 'torchvision\'s RandAugment is not mmpretrain\'s policy '
                   '(other operations, no magnitude noise)',
}
# The options of mmcv's loader that ours does not take.
_LOADER_ONLY_OPTIONS = ('color_type', 'imdecode_backend', 'file_client_args',
                        'backend_args', 'ignore_empty', 'to_float32')


def _dotted(obj) -> str:
    # Types added to a parsed config by import path: configs are printed,
    # and a class object in one cannot be.
    return f'{obj.__module__}.{obj.__name__}'


def _type_name(step_type) -> str:
    name = step_type if isinstance(step_type, str) else step_type.__name__
    return name.rsplit('.', 1)[-1]


def use_device_decoding(cfg: Config,
                        loaders: Sequence[str] = ('train_dataloader',
                                                  'val_dataloader',
                                                  'test_dataloader')
                        ) -> None:
    """Rewrite ``loaders``' pipelines for decoding on the device, in place:
    each step becomes its ``*OnDevice`` twin (same options), ``PackInputs``
    packs the file's bytes, and the data preprocessor becomes
    :class:`DeviceDecodeDataPreprocessor` with the same options. The Runner
    saves the rewritten config in the work dir.

    Args:
        cfg (Config): The config.
        loaders (Sequence[str]): Data loader keys to rewrite (absent ones
            are passed over).

    Raises:
        ConfigError: A step has no device version; names it and the loader.

    Example:
        >>> cfg = load_config('configs/inception_v3_8xb32_in1k.py')
        >>> use_device_decoding(cfg, ['test_dataloader'])  # doctest: +SKIP
    """
    for loader in loaders:
        if not cfg.get(loader):
            continue
        dataset = cfg[loader]['dataset']
        while 'pipeline' not in dataset and 'dataset' in dataset:
            dataset = dataset['dataset']  # wrappers: SkipUnreadableImages
        pipeline = []
        for step in dataset.get('pipeline', []):
            name = _type_name(step['type'])
            options = {k: v for k, v in step.items() if k != 'type'}
            if name == 'PackInputs':
                if options.get('input_key', 'img') != 'img':
                    raise ConfigError(
                        f'--gpu-decode: {loader} packs {options["input_key"]}'
                        ', not the image')
                keys = tuple(options.get('meta_keys', DEVICE_META_KEYS))
                pipeline.append(dict(
                    options, type=step['type'] if isinstance(
                        step['type'], str) else _dotted(step['type']),
                    input_key='img_bytes',
                    meta_keys=keys + tuple(key for key in DEVICE_KEYS
                                           if key not in keys)))
            elif name in _DEVICE_TWINS:
                if _DEVICE_TWINS[name] is LoadImageBytesChecked:
                    options = {k: v for k, v in options.items()
                               if k not in _LOADER_ONLY_OPTIONS}
                pipeline.append(dict(options,
                                     type=_dotted(_DEVICE_TWINS[name])))
            else:
                why = _CPU_ONLY.get(name, 'no device version of it exists')
                raise ConfigError(
                    f'--gpu-decode: {loader}.dataset.pipeline step {name} '
                    f'runs on the CPU only ({why}); drop --gpu-decode for '
                    'this config')
        dataset['pipeline'] = pipeline
    key = 'data_preprocessor' if 'data_preprocessor' in cfg.model else None
    preprocessor = dict(cfg.model.get(key) or cfg.get('data_preprocessor')
                        or {})
    preprocessor['type'] = _dotted(DeviceDecodeDataPreprocessor)
    if key:
        cfg.model.data_preprocessor = preprocessor
    else:
        cfg.data_preprocessor = preprocessor
