"""Checkpoint ensembles: every member's per-image softmax, averaged."""
from typing import Dict, List, Sequence

import torch
from mmengine.evaluator import BaseMetric

from mmpre_inception.registry import METRICS


@METRICS.register_module()
class CollectScores(BaseMetric):
    """Keeps every sample's prediction of a test run, so that a tool can
    combine runs; it reports no metric.

    In a distributed run mmengine gathers the samples of every rank (the
    sampler's padding dropped) before :meth:`compute_metrics`, so after
    ``runner.test()`` the main process holds them all in
    :attr:`collected`, in data set order; the other ranks hold none.

    Example:
        >>> collector = CollectScores()
        >>> # runner.test_evaluator.metrics.append(collector); runner.test()
        >>> collector.collected
        []
    """

    default_prefix = 'collect'

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.collected: List[dict] = []

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            self.results.append({
                key: value.cpu() if isinstance(value, torch.Tensor) else value
                for key, value in sample.items()
            })

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        self.collected = list(results)
        return {}


def average_scores(members: Sequence[Sequence[dict]],
                   names: Sequence[str]) -> List[dict]:
    """The mean of the members' ``pred_score`` for each image, as samples
    in the format of mmengine's ``DumpResults`` (the first member's, with
    the averaged ``pred_score`` and its arg-max as ``pred_label``).

    Args:
        members: Each member's samples (:attr:`CollectScores.collected`).
        names: Each member's name for messages (its config).

    Returns:
        list[dict]: One sample per image, in ``sample_idx`` order.

    Raises:
        ValueError: The members did not score the same images with the
            same labels and number of classes; names the member.

    Example:
        >>> one = [dict(sample_idx=0, gt_label=torch.tensor([1]),
        ...             pred_score=torch.tensor([0.6, 0.4]))]
        >>> two = [dict(sample_idx=0, gt_label=torch.tensor([1]),
        ...             pred_score=torch.tensor([0.0, 1.0]))]
        >>> average_scores([one, two], ['a.py', 'b.py'])[0]['pred_label']
        tensor([1])
    """
    first = {sample['sample_idx']: sample for sample in members[0]}
    total = {index: sample['pred_score'].double()
             for index, sample in first.items()}
    for samples, name in zip(members[1:], names[1:]):
        indices = {sample['sample_idx'] for sample in samples}
        if indices != set(first) or len(samples) != len(first):
            raise ValueError(
                f'{name} scored {len(samples)} images, {names[0]} '
                f'{len(first)}, not the same ones: every member of an '
                'ensemble must test the same data set (same ann_file and '
                'indices)')
        for sample in samples:
            reference = first[sample['sample_idx']]
            if 'gt_label' in sample and not torch.equal(
                    sample['gt_label'], reference['gt_label']):
                raise ValueError(
                    f'{name} labels image {sample["sample_idx"]} '
                    f'{sample["gt_label"].tolist()}, {names[0]} '
                    f'{reference["gt_label"].tolist()}: the members must '
                    'test the same annotation file')
            score = sample['pred_score']
            if score.shape != total[sample['sample_idx']].shape:
                raise ValueError(
                    f'{name} scores {score.numel()} classes, {names[0]} '
                    f'{total[sample["sample_idx"]].numel()}: an ensemble '
                    'needs members with the same classes')
            total[sample['sample_idx']] += score.double()
    averaged = []
    for index in sorted(first):
        mean = (total[index] / len(members)).float()
        averaged.append(dict(first[index], pred_score=mean,
                             pred_label=mean.argmax().reshape(1)))
    return averaged


def compute_locally(metric: BaseMetric, samples: List[dict]) -> dict:
    """``metric`` on ``samples`` in this process alone (``evaluate`` would
    gather from every rank), with the metric's prefix as mmengine adds
    it."""
    metric.results = []
    metric.process([], samples)
    values = metric.compute_metrics(metric.results)
    metric.results = []
    if metric.prefix:
        values = {f'{metric.prefix}/{key}': value
                  for key, value in values.items()}
    return values
