"""Reading a ``tools/test.py --out`` file and the class names that go with
it, for the tools that analyse saved predictions."""
import copy
from typing import List, Optional

import torch


def load_predictions(path: str) -> dict:
    """The predictions ``tools/test.py --out`` (mmengine's ``DumpResults``)
    saved.

    Args:
        path (str): The ``.pkl`` file.

    Returns:
        dict: ``scores`` (N x C float tensor), ``pred`` and ``gt`` (N long
        tensors) and ``img_paths`` (N strings, '' where not saved).

    Raises:
        ResultsFileError: The file is missing, unsafe (nothing in it runs)
            or holds something else.

    Example:
        >>> predictions = load_predictions('preds.pkl')  # doctest: +SKIP
        >>> (predictions['pred'] == predictions['gt']).float().mean()
    """
    from mmpre_inception.evaluation import load_results
    samples = load_results(path)
    return dict(
        scores=torch.stack([torch.as_tensor(s['pred_score']).float()
                            for s in samples]),
        pred=torch.cat([torch.as_tensor(s['pred_label']).view(-1)[:1]
                        for s in samples]).long(),
        gt=torch.cat([torch.as_tensor(s['gt_label']).view(-1)[:1]
                      for s in samples]).long(),
        img_paths=[s.get('img_path', '') for s in samples])


def class_names(cfg, num_classes: int,
                loader: str = 'test_dataloader') -> List[str]:
    """The class names of ``cfg``'s ``loader`` data set
    (:func:`~mmpre_inception.datasets.config_class_names`), else the class
    indices; ImageNet's synonyms ('tench, Tinca tinca') cut to the first.

    Args:
        cfg (Config, optional): A config, or None for indices.
        num_classes (int): How many names to return.
        loader (str): Which data loader's data set.

    Returns:
        list[str]: ``num_classes`` names.
    """
    from mmpre_inception.datasets import config_class_names
    names = config_class_names(cfg, loader) if cfg is not None else None
    if names is None or len(names) != num_classes:
        return [str(index) for index in range(num_classes)]
    return [str(name).split(',')[0] for name in names]


def dataset_size(cfg, loader: str = 'test_dataloader') -> Optional[int]:
    """How many samples ``cfg``'s ``loader`` data set has (its options,
    ``indices`` included), or None where it cannot be read here (the
    images and annotation file are on another machine)."""
    from mmengine.registry import DefaultScope

    from mmpre_inception.registry import DATASETS
    dataset = (cfg.get(loader) or {}).get('dataset')
    if not dataset:
        return None
    try:
        with DefaultScope.overwrite_default_scope('mmpre_inception'):
            return len(DATASETS.build(copy.deepcopy(dataset)))
    except Exception:  # noqa: BLE001 (not readable here: nothing to count)
        return None


def check_predictions_fit(cfg, predictions: dict, path: str,
                          loader: str = 'test_dataloader') -> None:
    """Refuse predictions made with another config: another number of
    classes than its model's, or its data set's names, or another number
    of samples than its data set (where that can be read here).

    Args:
        cfg (Config): The config given with the result file.
        predictions (dict): :func:`load_predictions` of ``path``.
        path (str): The result file, for the message.
        loader (str): The data loader whose data set was scored.

    Raises:
        ConfigError: The two do not fit; says what differs and where.
    """
    from mmpre_inception.datasets import config_class_names
    from mmpre_inception.errors import ConfigError
    samples, classes = predictions['scores'].shape
    remedy = ('give the config (and --cfg-options) the results were made '
              'with')
    head = (cfg.get('model') or {}).get('head') or {}
    if head.get('num_classes') not in (None, classes):
        raise ConfigError(
            f'{path} holds scores of {classes} classes, but the config\'s '
            f'model has {head["num_classes"]} (model.head.num_classes): '
            f'{remedy}')
    names = config_class_names(cfg, loader)
    if names is not None and len(names) != classes:
        raise ConfigError(
            f'{path} holds scores of {classes} classes, but the config\'s '
            f'{loader}.dataset names {len(names)}: {remedy}')
    expected = dataset_size(cfg, loader)
    if expected is not None and expected != samples:
        raise ConfigError(
            f'{path} holds {samples} samples, but the config\'s '
            f'{loader}.dataset has {expected}: {remedy}')
