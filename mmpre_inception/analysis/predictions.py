"""Reading a ``tools/test.py --out`` file and the class names that go with
it, for the tools that analyse saved predictions."""
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
    """The class names of ``cfg``'s ``loader`` data set, without building
    it: its ``metainfo.classes``, else its type's ``METAINFO`` (mmpretrain's
    ImageNet has the 1000 names), else the class indices.

    Args:
        cfg (Config, optional): A config, or None for indices.
        num_classes (int): How many names to return.
        loader (str): Which data loader's data set.

    Returns:
        list[str]: ``num_classes`` names.
    """
    names: Optional[list] = None
    if cfg is not None and cfg.get(loader):
        dataset = cfg[loader].dataset
        names = (dataset.get('metainfo') or {}).get('classes')
        if names is None:
            dataset_type = dataset.type
            if isinstance(dataset_type, str):
                from mmpre_inception.registry import DATASETS
                dataset_type = DATASETS.get(dataset_type)
            names = getattr(dataset_type, 'METAINFO', {}).get('classes')
    if names is None or len(names) != num_classes:
        return [str(index) for index in range(num_classes)]
    # ImageNet's names list synonyms ('tench, Tinca tinca'): keep the first.
    return [str(name).split(',')[0] for name in names]
