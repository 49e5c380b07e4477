"""Fold BatchNorm into the convolutions for a test run."""
import torch
from mmcv.cnn import fuse_conv_bn
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmpre_inception.registry import HOOKS


@HOOKS.register_module()
class FoldBatchNormHook(Hook):
    """Folds every BatchNorm into its convolution once the checkpoint is
    loaded, before the test loop (mmcv's ``fuse_conv_bn``): fewer passes
    over the activations (docs/benchmark.md measures it), logits within
    float rounding
    (``tests/test_deployment.py``). Our configs list it in
    ``default_hooks`` as ``fold_batchnorm``; ``tools/test.py --no-fold-bn``
    removes that entry. Validation during training is not folded: a
    folded model cannot train.

    Example:
        >>> default_hooks = dict(fold_batchnorm=dict(type=FoldBatchNormHook))
    """
    priority = 'LOWEST'

    def before_test_epoch(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        with torch.no_grad():
            fuse_conv_bn(model)
