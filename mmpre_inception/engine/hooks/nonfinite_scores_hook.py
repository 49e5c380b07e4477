"""Stop an evaluation whose scores are NaN, instead of printing metrics."""
from typing import Optional, Sequence

import torch
from mmengine.hooks import Hook

from mmpre_inception.errors import NonFiniteScoresError
from mmpre_inception.registry import HOOKS


@HOOKS.register_module()
class NonFiniteScoresHook(Hook):
    """Checks each validation and test batch's scores before the metrics
    count them.

    Metrics rank NaN scores as if they were numbers (a top-1 of 0.00
    printed with exit status 0). The checkpoint check refuses the weights
    that cause it (NaN values, negative BatchNorm variances), so this
    catches what remains: a float16 overflow (``--amp``), a bad input
    pipeline. The scores are on the host for the metrics anyway, so the
    check adds no device synchronisation of its own beyond one per batch.

    Example:
        >>> default_hooks = dict(nonfinite_scores=dict(
        ...     type=NonFiniteScoresHook))
    """
    priority = 'VERY_HIGH'

    def _after_iter(self, runner, batch_idx: int, data_batch=None,
                    outputs: Optional[Sequence] = None,
                    mode: str = 'train') -> None:
        if mode == 'train' or not outputs:
            return
        scores = [sample.pred_score for sample in outputs
                  if 'pred_score' in sample]
        if not scores:
            return
        finite = torch.stack([torch.isfinite(score).all()
                              for score in scores])
        if bool(finite.all()):
            return
        bad = [index for index, ok in enumerate(finite.tolist()) if not ok]
        first = outputs[bad[0]]
        name = first.metainfo.get('img_path', f'sample {bad[0]}')
        others = f' and {len(bad) - 1} more in its batch' if len(bad) > 1 \
            else ''
        raise NonFiniteScoresError(
            f'the {mode} scores of {name}{others} are NaN or infinite, so '
            'no metric would mean anything; the evaluation stopped. With '
            '--amp (float16) drop it or use bfloat16; otherwise check the '
            'checkpoint and the test pipeline')
