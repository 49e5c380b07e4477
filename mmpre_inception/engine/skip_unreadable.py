"""``--skip-unreadable``: the config changes that make data loaders skip
unreadable images instead of stopping."""
from typing import Sequence

from mmcv.transforms import LoadImageFromFile as MMCVLoadImageFromFile
from mmengine.config import Config

from mmpre_inception.datasets import (LoadImageBytesChecked,
                                      LoadImageFromFile,
                                      SkipUnreadableImages,
                                      collate_skipping_unreadable)

from .hooks import UnreadableImagesHook
from .loops import (SkipEmptyBatchesTestLoop, SkipEmptyBatchesTrainLoop,
                    SkipEmptyBatchesValLoop)


def _is_type(step_type, cls) -> bool:
    # A config names a type by class, registry name or import path.
    if isinstance(step_type, str):
        return step_type.rsplit('.', 1)[-1] == cls.__name__
    return step_type is cls


def _dotted(obj) -> str:
    # Types added to a parsed config are given by import path: configs are
    # printed, and a class or function object in one cannot be.
    return f'{obj.__module__}.{obj.__name__}'


def enable_skip_unreadable(cfg: Config,
                           loaders: Sequence[str] = ('train_dataloader',
                                                     'val_dataloader',
                                                     'test_dataloader')
                           ) -> None:
    """Make ``loaders`` skip unreadable images instead of stopping: the
    image loader logs and drops them, the data set hands the drop to the
    data loader, the collate function leaves them out, the loops pass
    over a batch left with no image, and a hook reports the
    count (``--skip-unreadable``).

    Args:
        cfg (Config): Config to change in place.
        loaders (Sequence[str]): Data loader keys to change.
    """
    for name in loaders:
        loader = cfg.get(name)
        if not loader:
            continue
        dataset = loader['dataset']
        pipeline = dataset.get('pipeline', [])
        for index, step in enumerate(pipeline):
            if any(_is_type(step['type'], loader) for loader in
                   (LoadImageFromFile, LoadImageBytesChecked)):
                step['skip_unreadable'] = True
            elif _is_type(step['type'], MMCVLoadImageFromFile):
                pipeline[index] = dict(
                    type=_dotted(LoadImageFromFile),
                    skip_unreadable=True)
        if not _is_type(dataset.get('type'), SkipUnreadableImages):
            loader['dataset'] = dict(
                type=_dotted(SkipUnreadableImages), dataset=dataset)
        loader['collate_fn'] = dict(
            type=_dotted(collate_skipping_unreadable))
    loops = dict(val_dataloader=('val_cfg', SkipEmptyBatchesValLoop),
                 test_dataloader=('test_cfg', SkipEmptyBatchesTestLoop))
    for name in loaders:
        key, loop = loops.get(name, (None, None))
        if key and cfg.get(key) is not None and cfg.get(name):
            cfg[key] = dict(cfg[key], type=_dotted(loop))
    train_cfg = cfg.get('train_cfg')
    if 'train_dataloader' in loaders and cfg.get('train_dataloader') and \
            train_cfg and train_cfg.get('by_epoch', True) and \
            'type' not in train_cfg:
        # A loop given by type takes no by_epoch (mmengine reads it only
        # to choose its own).
        cfg.train_cfg = dict(
            {k: v for k, v in train_cfg.items() if k != 'by_epoch'},
            type=_dotted(SkipEmptyBatchesTrainLoop))
    hooks = list(cfg.get('custom_hooks') or [])
    if not any(_is_type(hook.get('type'), UnreadableImagesHook)
               for hook in hooks):
        hooks.append(dict(type=_dotted(UnreadableImagesHook)))
    cfg.custom_hooks = hooks
