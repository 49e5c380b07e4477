"""The weight average for training and validation, multi-tensor."""
import copy

from mmengine.hooks import EMAHook
from mmengine.logging import print_log
from mmengine.runner.checkpoint import load_state_dict

from mmpre_inception.registry import HOOKS

from ..private_apis import is_resuming, is_training
from ..weight_average import MultiTensorEMA


@HOOKS.register_module()
class TrainValEMAHook(EMAHook):
    """mmengine's ``EMAHook`` for training and validation only.

    A checkpoint without ``ema_state_dict`` (a state dict, a fine-tuning
    start) starts the average from its weights, with one log line. The
    average is :class:`~mmpre_inception.engine.MultiTensorEMA` unless
    ``ema_type`` names another.

    Checkpoints already hold the averaged weights as their ``state_dict``
    (``EMAHook`` swaps them in before saving), so a test run evaluates them
    as loaded; swapping again there would only cost time, and would break
    on a model whose BatchNorm was folded for the test
    (:class:`FoldBatchNormHook`). Arguments are ``EMAHook``'s.

    Example:
        >>> custom_hooks = [dict(type=TrainValEMAHook, momentum=1e-4)]
    """

    def __init__(self, ema_type=MultiTensorEMA, **kwargs) -> None:
        super().__init__(ema_type=ema_type, **kwargs)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # A test run evaluates the checkpoint's weights as loaded; the
        # average only matters to a run that trains.
        if not is_training(runner):
            return
        if 'ema_state_dict' in checkpoint and is_resuming(runner):
            super().after_load_checkpoint(runner, checkpoint)
            return
        # mmengine warns only when resuming, and not at all for load_from.
        print_log('The weight average starts from the loaded weights (the '
                  'checkpoint has no ema_state_dict).', logger='current')
        load_state_dict(self.ema_model.module,
                        copy.deepcopy(checkpoint['state_dict']),
                        strict=self.strict_load)

    def before_test_epoch(self, runner) -> None:
        pass

    def after_test_epoch(self, runner, metrics=None) -> None:
        pass
