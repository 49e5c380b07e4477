"""Count and report the images ``--skip-unreadable`` dropped."""
import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmpre_inception.registry import HOOKS


@HOOKS.register_module()
class UnreadableImagesHook(Hook):
    """Adds up the ``'unreadable'`` counts that
    :func:`~mmpre_inception.datasets.collate_skipping_unreadable` puts in
    each batch, over all ranks, and reports them at the end of each epoch
    of training, validation and test. The test count is kept in the message
    hub as ``test/unreadable`` and ``test/scored`` for ``tools/test.py``.
    """
    priority = 'LOW'

    def __init__(self) -> None:
        self.counts = {}

    def _start(self, mode: str) -> None:
        self.counts[mode] = 0

    def _add(self, mode: str, data_batch) -> None:
        if isinstance(data_batch, dict):
            self.counts[mode] += int(data_batch.get('unreadable', 0))

    def _report(self, runner, mode: str, dataloader) -> None:
        total = torch.tensor([float(self.counts.get(mode, 0))])
        # mmengine's all_reduce moves the tensor to the backend's device
        # (a GPU for nccl) and back; one process returns it as it is.
        all_reduce(total)
        skipped = int(total.item())
        size = len(dataloader.dataset)
        runner.message_hub.update_info(f'{mode}/unreadable', skipped)
        runner.message_hub.update_info(f'{mode}/scored', size - skipped)
        if skipped or mode != 'train':
            print_log(
                f'{mode}: {skipped} unreadable images skipped (each logged '
                f'above); {size - skipped} of {size} samples used',
                logger='current', level=30 if skipped else 20)

    def before_train_epoch(self, runner) -> None:
        self._start('train')

    def before_val_epoch(self, runner) -> None:
        self._start('val')

    def before_test_epoch(self, runner) -> None:
        self._start('test')

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self._add('train', data_batch)

    def after_val_iter(self, runner, batch_idx, data_batch=None,
                       outputs=None) -> None:
        self._add('val', data_batch)

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None) -> None:
        self._add('test', data_batch)

    def after_train_epoch(self, runner) -> None:
        self._report(runner, 'train', runner.train_dataloader)

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._report(runner, 'val', runner.val_dataloader)

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._report(runner, 'test', runner.test_dataloader)
