"""mmengine's Runner with a console that shows progress and results, and
data-loader workers chosen from the machine."""
import logging

from mmengine.runner import Runner

from mmpre_inception.registry import RUNNERS
from mmpre_inception.utils import resolve_auto_workers

# Multi-line listings mmengine logs at the start of every run, and one
# line per parameter group option: hundreds of lines before any result.
# They stay in the log file in the work dir.
_LISTINGS = ('Config:', 'Hooks will be executed', 'paramwise_options',
             '\n' + '-' * 60 + '\nSystem environment')


def _not_a_listing(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith(_LISTINGS)


@RUNNERS.register_module()
class ConsoleSummaryRunner(Runner):
    """mmengine's ``Runner`` whose console leaves out the start-of-run
    listings (system environment, the whole config, the hook order, one
    line per ``paramwise_cfg`` option); the log file keeps them all.

    A data loader's ``num_workers='auto'`` becomes
    :func:`~mmpre_inception.utils.auto_num_workers` on the machine that
    runs it (the rank's share of its CPUs, less one), so a config written
    for an 8-GPU node neither oversubscribes a 2-core machine nor starves
    a 64-core one. An integer is used as it is.

    Select it in a config with ``runner_type = ConsoleSummaryRunner``;
    mmengine's, mmpretrain's and our tools build ``runner_type`` when a
    config has it.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ('train_dataloader', 'val_dataloader',
                     'test_dataloader'):
            attribute = f'_{name}'
            loader = getattr(self, attribute)
            if isinstance(loader, dict):
                setattr(self, attribute, self._resolve_workers(name, loader))

    def _resolve_workers(self, name: str, loader: dict) -> dict:
        loader, resolved = resolve_auto_workers(name, loader)
        if resolved is not None:
            self.logger.info(resolved)
        return loader

    def build_logger(self, *args, **kwargs):
        logger = super().build_logger(*args, **kwargs)
        for handler in logger.handlers:
            if type(handler) is logging.StreamHandler:  # not the file's
                handler.addFilter(_not_a_listing)
        return logger
