"""Stop persistent data-loader workers while the run is still whole."""
from mmengine.hooks import Hook

from mmpre_inception.registry import HOOKS

from ..private_apis import shutdown_loader_workers


def stop_workers(dataloader) -> None:
    """Shut down a DataLoader's persistent workers now, if it has any."""
    shutdown_loader_workers(dataloader)


@HOOKS.register_module()
class StopLoaderWorkersHook(Hook):
    """Shuts down persistent data-loader workers at the end of a test run
    and of training, instead of at garbage collection.

    Left to garbage collection, in a distributed run whose ranks have more
    workers than batches (2 processes on 2 images, 5 workers each), the
    idle workers' queues are torn down while their feeder threads still
    write, and every rank prints ``OSError: [Errno 9] Bad file descriptor``
    tracebacks after the results.

    Example:
        >>> default_hooks = dict(stop_workers=dict(type=StopLoaderWorkersHook))
    """
    priority = 'VERY_LOW'

    def after_test_epoch(self, runner, metrics=None) -> None:
        stop_workers(runner.test_dataloader)

    def after_run(self, runner) -> None:
        for name in ('_train_dataloader', '_val_dataloader',
                     '_test_dataloader'):
            stop_workers(getattr(runner, name, None))
