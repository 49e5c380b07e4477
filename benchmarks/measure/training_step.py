"""What one training iteration of mmengine's Runner costs: its time, and
the aten calls it dispatches against those of the network's own forward,
loss and backward.

On a GPU each aten call is (at least) one kernel launch with Python
around it, so a step whose optimizer, weight average or hooks loop over
the parameters is bound by launches, not by the network; on a CPU the
count is the same (our configs ask for the multi-tensor paths on every
device), so CI sees what a GPU would run.
"""
import contextlib
import copy
import tempfile
import time
from collections import Counter
from typing import Dict, List, Optional

import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from torch.utils._python_dispatch import TorchDispatchMode


class AtenCallCounter(TorchDispatchMode):
    """Counts the aten operators dispatched while it is active, by
    operator (``aten.add``, ``aten._foreach_lerp_``, ...).

    Example:
        >>> with AtenCallCounter() as counter:
        ...     torch.ones(2).add_(1)
        tensor([2., 2.])
        >>> sum(counter.counts.values())
        2
    """

    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.counts[str(func.overloadpacket)] += 1
        return func(*args, **(kwargs or {}))

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class _Stopwatch:

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.seconds: List[float] = []
        self._start = 0.0

    def _sync(self) -> None:
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)

    def start(self) -> None:
        self._sync()
        self._start = time.perf_counter()

    def stop(self) -> None:
        self._sync()
        self.seconds.append(time.perf_counter() - self._start)


class _IterationStart(Hook):
    """First of the iteration's hooks: starts the clock, and the counter on
    the counted iteration (and keeps its batch)."""
    priority = 'HIGHEST'

    def __init__(self, probe: '_Probe') -> None:
        self.probe = probe

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self.probe.begin(runner.iter, data_batch)


class _IterationEnd(Hook):
    """Last of the iteration's hooks: stops the clock and the counter."""
    priority = 'LOWEST'

    def __init__(self, probe: '_Probe') -> None:
        self.probe = probe

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self.probe.end(runner)


class _StopTraining(Exception):
    """Raised once the probe has what it measures."""


class _Probe:

    def __init__(self, device, counted_iteration: int, last: int) -> None:
        self.watch = _Stopwatch(device)
        self.counted_iteration = counted_iteration
        self.last = last
        self.counter: Optional[AtenCallCounter] = None
        self.counting = False
        self.batch = None

    def begin(self, iteration: int, data_batch) -> None:
        self.watch.start()
        if iteration == self.counted_iteration:
            self.batch = data_batch
            self.counter = AtenCallCounter()
            self.counter.__enter__()
            self.counting = True

    def end(self, runner) -> None:
        if self.counting:
            self.counter.__exit__(None, None, None)
            self.counting = False
        self.watch.stop()
        if runner.iter + 1 >= self.last:
            raise _StopTraining


def network_calls(model: torch.nn.Module, data_batch: dict,
                  optim_wrapper=None) -> int:
    """Aten calls of the network's own data preprocessing, forward, loss
    and backward on ``data_batch`` (the gradients are dropped after), in
    ``optim_wrapper``'s context (its autocast, with ``--amp``)."""
    model.train()
    counter = AtenCallCounter()
    context = optim_wrapper.optim_context(model) if optim_wrapper else \
        contextlib.nullcontext()
    with counter:
        with context:
            data = model.data_preprocessor(data_batch, True)
            losses = model._run_forward(data, mode='loss')
        loss, _ = model.parse_losses(losses)
        loss.backward()
    model.zero_grad(set_to_none=True)
    return counter.total


def measure_training(cfg: Config, *, iterations: int = 6,
                     counted_iteration: int = 3) -> Dict:
    """Train ``cfg`` with its Runner for ``iterations`` steps and measure
    them from the first ``before_train_iter`` hook to the last
    ``after_train_iter`` hook (data loading left out).

    The config is run as it is but for what a measurement needs: a
    temporary work dir, no validation, no checkpoint, a training set cut to
    the iterations measured, and warnings only in the log.

    Args:
        cfg (Config): A training config (its data set must be readable).
        iterations (int): Steps to run; the first are warm-up.
        counted_iteration (int): The step (0-based) whose aten calls are
            counted; later than the first few, which build state.

    Returns:
        dict: ``seconds`` (each step's), ``batch_size``, ``aten_calls``
        (the counted step's, by operator), ``network_calls`` (the
        network's own forward, loss and backward on the same batch).
    """
    from mmpre_inception.apis import build_runner
    cfg = copy.deepcopy(cfg)
    batch_size = cfg.train_dataloader.batch_size
    cfg.train_dataloader.dataset.indices = iterations * batch_size
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.train_cfg = dict(by_epoch=True, max_epochs=1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1,
                                        save_last=False)
    cfg.default_hooks.pop('progress', None)
    cfg.log_level = 'WARNING'  # the measurement's lines, not the Runner's
    with tempfile.TemporaryDirectory() as work_dir:
        cfg.work_dir = work_dir
        runner = build_runner(cfg)
        device = next(runner.model.parameters()).device
        probe = _Probe(device, counted_iteration, iterations)
        runner.register_hook(_IterationStart(probe))
        runner.register_hook(_IterationEnd(probe))
        try:
            runner.train()
        except _StopTraining:
            pass
        model = runner.model.module if hasattr(runner.model, 'module') \
            else runner.model
        own = network_calls(model, probe.batch, runner.optim_wrapper)
        del runner
    return dict(seconds=probe.watch.seconds, batch_size=batch_size,
                aten_calls=probe.counter.counts, network_calls=own)
