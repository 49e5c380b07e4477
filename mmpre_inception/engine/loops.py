"""Training, validation and test loops that pass over a batch with no
image (``--skip-unreadable``), so that the model never sees one."""
from mmengine.runner import EpochBasedTrainLoop, TestLoop, ValLoop

from mmpre_inception.registry import LOOPS


class _SkipEmptyBatches:
    """``run_iter`` for mmengine's evaluation loops: a batch whose images
    were all unreadable (``--skip-unreadable`` collates it to no image at
    all) reaches the hooks, which count it, but not the model or the
    metrics, which cannot take an empty batch."""
    stage: str

    def run_iter(self, idx, data_batch) -> None:
        if _is_empty(data_batch):
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


def _is_empty(data_batch) -> bool:
    # len: a list of images (our collate) or one stacked tensor.
    return isinstance(data_batch, dict) and len(data_batch['inputs']) == 0


@LOOPS.register_module()
class SkipEmptyBatchesTrainLoop(EpochBasedTrainLoop):
    """mmengine's ``EpochBasedTrainLoop`` that passes over a batch with no
    image: the hooks see it (and count its unreadable images), the model
    does not, and the iteration counts as done."""

    def run_iter(self, idx, data_batch) -> None:
        if not _is_empty(data_batch):
            super().run_iter(idx, data_batch)
            return
        self.runner.call_hook('before_train_iter', batch_idx=idx,
                              data_batch=data_batch)
        self.runner.call_hook('after_train_iter', batch_idx=idx,
                              data_batch=data_batch, outputs={})
        self._iter += 1
