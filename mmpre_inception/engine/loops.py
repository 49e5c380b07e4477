"""Validation and test loops that pass over a batch with no image."""
from mmengine.runner import TestLoop, ValLoop

from mmpre_inception.registry import LOOPS


class _SkipEmptyBatches:
    """``run_iter`` for mmengine's evaluation loops: a batch whose images
    were all unreadable (``--skip-unreadable`` collates it to no image at
    all) reaches the hooks, which count it, but not the model or the
    metrics, which cannot take an empty batch."""
    stage: str

    def run_iter(self, idx, data_batch) -> None:
        # len: a list of images (our collate) or one stacked tensor.
        if isinstance(data_batch, dict) and len(data_batch['inputs']) == 0:
            self.runner.call_hook(f'before_{self.stage}_iter', batch_idx=idx,
                                  data_batch=data_batch)
            self.runner.call_hook(f'after_{self.stage}_iter', batch_idx=idx,
                                  data_batch=data_batch, outputs=[])
            return
        super().run_iter(idx, data_batch)


@LOOPS.register_module()
class SkipEmptyBatchesValLoop(_SkipEmptyBatches, ValLoop):
    """mmengine's ``ValLoop`` that passes over a batch with no image."""
    stage = 'val'


@LOOPS.register_module()
class SkipEmptyBatchesTestLoop(_SkipEmptyBatches, TestLoop):
    """mmengine's ``TestLoop`` that passes over a batch with no image."""
    stage = 'test'
