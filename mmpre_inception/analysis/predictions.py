"""Reading a ``tools/test.py --out`` file and the class names that go with
it, for the tools that analyse saved predictions."""
from typing import List

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
