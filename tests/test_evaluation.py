"""Our metrics against a recount from the scores."""
import pytest
import torch
from mmpretrain.evaluation import Accuracy

from mmpre_inception.evaluation import AccuracyUpToClasses


def scored_samples(num_classes: int, count: int = 12):
    generator = torch.Generator().manual_seed(0)
    scores = torch.rand(count, num_classes, generator=generator).softmax(1)
    labels = torch.randint(num_classes, (count, ), generator=generator)
    samples = [dict(pred_score=score, gt_label=label.view(1))
               for score, label in zip(scores, labels)]
    return samples, scores, labels


def evaluate(metric, samples):
    metric.process(None, samples)
    return metric.evaluate(len(samples))


def test_top5_is_left_out_below_five_classes():
    samples, scores, labels = scored_samples(num_classes=3)
    with pytest.raises(ValueError, match='Top-5 accuracy is unavailable'):
        evaluate(Accuracy(topk=(1, 5)), samples)
    metrics = evaluate(AccuracyUpToClasses(topk=(1, 5)), samples)
    recount = (scores.argmax(1) == labels).float().mean().item() * 100
    assert metrics == {'accuracy/top1': pytest.approx(recount)}


def test_same_as_mmpretrain_with_enough_classes():
    samples, _, _ = scored_samples(num_classes=10)
    expected = evaluate(Accuracy(topk=(1, 5)), samples)
    assert evaluate(AccuracyUpToClasses(topk=(1, 5)), samples) == expected
    assert set(expected) == {'accuracy/top1', 'accuracy/top5'}
