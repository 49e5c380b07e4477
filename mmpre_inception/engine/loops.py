"""Validation and test loops that pass over a batch with no image."""
from mmengine.runner import TestLoop, ValLoop

from mmpre_inception.registry import LOOPS


def _empty(data_batch) -> bool:
    return isinstance(data_batch, dict) and not data_batch.get('inputs')


@LOOPS.register_module()
class SkipEmptyBatchesValLoop(ValLoop):
    """mmengine's ``ValLoop`` for ``--skip-unreadable``: a batch whose
    images were all unreadable (collated to no image at all) reaches the
    hooks, which count it, but not the model or the metrics, which cannot
    take an empty batch."""

    def run_iter(self, idx, data_batch) -> None:
        if not _empty(data_batch):
            return super().run_iter(idx, data_batch)
        self.runner.call_hook('before_val_iter', batch_idx=idx,
                              data_batch=data_batch)
        self.runner.call_hook('after_val_iter', batch_idx=idx,
                              data_batch=data_batch, outputs=[])


@LOOPS.register_module()
class SkipEmptyBatchesTestLoop(TestLoop):
    """mmengine's ``TestLoop`` that passes over a batch with no image, as
    :class:`SkipEmptyBatchesValLoop` does."""

    def run_iter(self, idx, data_batch) -> None:
        if not _empty(data_batch):
            return super().run_iter(idx, data_batch)
        self.runner.call_hook('before_test_iter', batch_idx=idx,
                              data_batch=data_batch)
        self.runner.call_hook('after_test_iter', batch_idx=idx,
                              data_batch=data_batch, outputs=[])
