"""Top-k accuracy that follows the number of classes."""
from typing import List

from mmengine.logging import print_log
from mmpretrain.evaluation import Accuracy

from mmpre_inception.registry import METRICS


@METRICS.register_module()
class AccuracyUpToClasses(Accuracy):
    """mmpretrain's ``Accuracy`` that leaves out each top-k above the
    number of classes (with a log line) instead of failing.

    mmpretrain's raises "Top-5 accuracy is unavailable since the number of
    categories is 3" at the first validation of a 3-class fine-tune, and a
    config cannot tie ``topk`` to a ``num_classes`` given on the command
    line. Same arguments and metric names as ``Accuracy``.

    Example:
        >>> val_evaluator = dict(type=AccuracyUpToClasses, topk=(1, 5))
    """

    def compute_metrics(self, results: List) -> dict:
        if results and 'pred_score' in results[0]:
            num_classes = results[0]['pred_score'].numel()
            kept = tuple(k for k in self.topk if k <= num_classes)
            if kept != tuple(self.topk):
                print_log(
                    f'top-{max(self.topk)} accuracy left out: there are '
                    f'only {num_classes} classes', logger='current')
                self.topk = kept
        return super().compute_metrics(results)
