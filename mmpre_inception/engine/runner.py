"""mmengine's Runner with a console that shows progress and results."""
import logging

from mmengine.runner import Runner

from mmpre_inception.registry import RUNNERS

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

    Select it in a config with ``runner_type = ConsoleSummaryRunner``;
    mmengine's, mmpretrain's and our tools build ``runner_type`` when a
    config has it.
    """

    def build_logger(self, *args, **kwargs):
        logger = super().build_logger(*args, **kwargs)
        for handler in logger.handlers:
            if type(handler) is logging.StreamHandler:  # not the file's
                handler.addFilter(_not_a_listing)
        return logger
