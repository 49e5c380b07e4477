"""Every private torch and mmengine API mmpre_inception touches, in one
place, each used for a reason its docstring gives.

A change in one of them (a new mmengine or torch) fails
``tests/test_private_apis.py``, which checks that each still exists with
the signature used here, instead of failing a user's run.
"""
from typing import Optional

import torch.distributed as dist
from mmengine.hooks import CheckpointHook
from mmengine.logging import MMLogger
from mmengine.runner import BaseLoop
from mmengine.runner.checkpoint import _load_checkpoint_to_model

#: mmengine's ``CheckpointHook`` method that saves one checkpoint and
#: writes ``last_checkpoint`` (``(self, runner, step, meta)``), which
#: ``AtomicCheckpointHook`` overrides to move that record in atomically:
#: mmengine offers no public seam for it.
CHECKPOINT_HOOK_SAVE = '_save_checkpoint_with_step'
assert hasattr(CheckpointHook, CHECKPOINT_HOOK_SAVE)


def default_store() -> Optional[dist.Store]:
    """The default process group's key-value store, which still answers
    after a collective has timed out (gloo's connections are then closed);
    torch has no public accessor for it. None without a process group."""
    if not (dist.is_available() and dist.is_initialized()):
        return None
    return dist.distributed_c10d._get_default_store()


def load_checkpoint_to_model(model, checkpoint: dict, strict: bool = False,
                             revise_keys: Optional[list] = None) -> dict:
    """mmengine's loading of ``checkpoint['state_dict']`` into ``model``
    (wrappers unwrapped, torch's per-module metadata kept), which its
    Runner's ``load_checkpoint`` calls after reading the file; ours reads
    the file its own way first."""
    return _load_checkpoint_to_model(model, checkpoint, strict,
                                     revise_keys=revise_keys or [])


def onnx_opsets() -> range:
    """The opsets torch's TorchScript ONNX exporter writes (the one
    ``tools/deployment/pytorch2onnx.py`` uses); torch names them only in
    its private ``torch.onnx._constants``, and an opset outside fails after
    the whole trace, printing the graph."""
    from torch.onnx import _constants
    return range(_constants.ONNX_MIN_OPSET,
                 _constants.ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET + 1)


def is_training(runner) -> bool:
    """Whether ``runner`` is in ``train()`` (its training loop is built),
    rather than ``test()`` or ``val()``, which mmengine does not expose."""
    return isinstance(runner._train_loop, BaseLoop)


def is_resuming(runner) -> bool:
    """Whether ``runner`` resumes (``cfg.resume``), as mmengine's own
    EMAHook reads it."""
    return bool(runner._resume)


def shutdown_loader_workers(dataloader) -> None:
    """Stop a DataLoader's persistent workers now: torch keeps them in the
    private ``_iterator`` and stops them only at garbage collection."""
    iterator = getattr(dataloader, '_iterator', None)
    if iterator is not None and hasattr(iterator, '_shutdown_workers'):
        iterator._shutdown_workers()
        dataloader._iterator = None


def give_a_name_of_its_own(runner) -> None:
    """Rename ``runner``'s experiment, before its logger is built, to a
    name no logger of this process has (``name_2``, ``name_3``...).

    mmengine builds a Runner's logger, message hub and visualizer under
    its private ``_experiment_name`` (the config file and the second the
    run started), and ``get_instance`` hands back an existing instance of
    that name: a second Runner started in the same second of one process
    (an ensemble's members, a script that evaluates twice) would log to
    the first one's stream and file and share its message hub. mmengine
    offers no public way to name them apart.
    """
    name, number = runner._experiment_name, 1
    candidate = name
    while MMLogger.check_instance_created(candidate):
        number += 1
        candidate = f'{name}_{number}'
    runner._experiment_name = candidate
