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

    # mmengine's Hook calls these for training, validation and test alike.
    def _before_epoch(self, runner, mode: str = 'train') -> None:
        self.counts[mode] = 0

    def _after_iter(self, runner, batch_idx: int, data_batch=None,
                    outputs=None, mode: str = 'train') -> None:
        if isinstance(data_batch, dict):
            self.counts[mode] += int(data_batch.get('unreadable', 0))

    def _after_epoch(self, runner, mode: str = 'train') -> None:
        total = torch.tensor([float(self.counts.get(mode, 0))])
        # mmengine's all_reduce moves the tensor to the backend's device
        # (a GPU for nccl) and back; one process returns it as it is.
        all_reduce(total)
        skipped = int(total.item())
        size = len(getattr(runner, f'{mode}_dataloader').dataset)
        runner.message_hub.update_info(f'{mode}/unreadable', skipped)
        runner.message_hub.update_info(f'{mode}/scored', size - skipped)
        if skipped or mode != 'train':
            print_log(
                f'{mode}: {skipped} unreadable images skipped (each logged '
                f'above); {size - skipped} of {size} samples used',
                logger='current', level=30 if skipped else 20)
