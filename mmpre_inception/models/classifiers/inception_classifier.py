"""ImageClassifier that also loads mmpretrain's Inception V3 checkpoints."""
import contextlib
from typing import Optional

import torch
from mmengine.logging import print_log
from mmpretrain.models.classifiers import ImageClassifier

from mmpre_inception.checkpoint import (AUX_CLASSIFIER_PREFIXES,
                                        check_state_dict_fits,
                                        relocate_mmpretrain_keys)
from mmpre_inception.registry import MODELS


def _auxiliary_may_be_absent(model, incompatible_keys) -> None:
    """A checkpoint without any auxiliary-classifier key was trained
    without it (mmpretrain's published one): say so once, instead of the
    loaders' "missing keys" warning; the branch keeps its initialisation
    and inference never uses it."""
    aux = [key for key in incompatible_keys.missing_keys
           if key.startswith(AUX_CLASSIFIER_PREFIXES)]
    # BatchNorm fills in a missing num_batches_tracked without a word.
    expected = {key for key in model.state_dict()
                if key.startswith(AUX_CLASSIFIER_PREFIXES)
                and not key.endswith('num_batches_tracked')}
    if aux and expected <= set(aux):
        for key in aux:
            incompatible_keys.missing_keys.remove(key)
        print_log('The checkpoint has no auxiliary classifier (trained '
                  'without it); head.AuxLogits keeps its initialisation, '
                  'which inference does not use.', logger='current')


@torch.compiler.disable
def _update_params(optim_wrapper, loss: torch.Tensor) -> None:
    optim_wrapper.update_params(loss)


@torch.compiler.disable
def _enter_optim_context(optim_wrapper, model) -> contextlib.ExitStack:
    # Entered eagerly: dynamo in torch 2.11 fails inside mmengine's
    # autocast helper (AmpOptimWrapper's context) with packaging 26
    # (InternalTorchDynamoError from its version check).
    context = contextlib.ExitStack()
    context.enter_context(optim_wrapper.optim_context(model))
    return context


@torch.compiler.disable
def _exit_optim_context(context: contextlib.ExitStack) -> None:
    context.close()


@MODELS.register_module()
class InceptionClassifier(ImageClassifier):
    """mmpretrain's ``ImageClassifier`` that accepts both our checkpoint
    layout and mmpretrain's published Inception V3 layout, and refuses
    weights that do not fit.

    Loading maps ``backbone.fc.*`` and ``backbone.AuxLogits.*`` (where
    mmpretrain's monolithic backbone kept the classifiers) onto our head, so
    ``load_from``, ``init_cfg`` and any tool take mmpretrain's checkpoint
    directly. Every load of the whole model, ``strict=False`` included (as
    mmengine loads), raises ``CheckpointError`` unless the weights fill
    every tensor with the right shape and finite values; only the
    auxiliary classifier may be absent. To load part of the model, load
    into that part (``model.backbone.load_state_dict``).

    Args:
        channels_last (bool): Keep weights and inputs in channels-last
            memory format, which CPU (oneDNN) and GPU (cuDNN) convolutions
            run faster in. Outputs match NCHW within float rounding.
            Defaults to False.
        cpu_inference_chunk (int, optional): Outside training, a batch on
            the CPU goes through the network this many images at a time.
            Smaller batches keep more of the activations in cache:
            Inception V3 runs about 1.1x faster in chunks of 8 than 32 at
            once on a 2-core CPU (docs/benchmark.md). Outputs are the
            same. GPU batches are never split. None turns it off.
            Defaults to 8.
        *args: ``ImageClassifier``'s positional arguments.
        **kwargs: ``ImageClassifier``'s keyword arguments.

    Example:
        >>> from mmpre_inception.registry import MODELS
        >>> model = MODELS.build(dict(
        ...     type='InceptionClassifier',
        ...     backbone=dict(type='InceptionV3'),
        ...     neck=dict(type='LastStageGAP'),
        ...     head=dict(type='InceptionV3Head', num_classes=10,
        ...               aux_logits=False)))
    """

    def __init__(self,
                 *args,
                 channels_last: bool = False,
                 cpu_inference_chunk: Optional[int] = 8,
                 **kwargs) -> None:
        if 'bn_momentum' in kwargs:
            # Removed option: say where its value goes now rather than
            # fail deep inside ImageClassifier with a TypeError.
            momentum = kwargs['bn_momentum']
            raise ValueError(
                f'model.bn_momentum was replaced by the norm_cfg of the '
                f'backbone and head: set model.backbone.norm_cfg and '
                f'model.head.aux_norm_cfg to dict(type="BN", eps=0.001, '
                f'momentum={momentum})')
        super().__init__(*args, **kwargs)
        if cpu_inference_chunk is not None and cpu_inference_chunk < 1:
            raise ValueError('cpu_inference_chunk must be a positive number '
                             f'of images or None, not {cpu_inference_chunk}')
        self.channels_last = channels_last
        self.cpu_inference_chunk = cpu_inference_chunk
        self.register_load_state_dict_post_hook(_auxiliary_may_be_absent)
        if channels_last:
            # Here rather than in a hook: mmengine wraps the model in DDP
            # right after building it, before any hook runs, and DDP's
            # gradient buckets take the layout the weights have then.
            # Loading and initialisation write into these tensors in
            # place, so the layout set here lasts.
            self.to(memory_format=torch.channels_last)

    def extract_feat(self, inputs: torch.Tensor, stage: str = 'neck'):
        if self.channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        chunk = self.cpu_inference_chunk
        if (self.training or chunk is None or inputs.device.type != 'cpu'
                or inputs.shape[0] <= chunk):
            return super().extract_feat(inputs, stage)
        parts = [
            super(InceptionClassifier, self).extract_feat(part, stage)
            for part in inputs.split(chunk)
        ]
        if isinstance(parts[0], torch.Tensor):
            return torch.cat(parts)
        return tuple(torch.cat(outputs) for outputs in zip(*parts))

    def train_step(self, data: dict, optim_wrapper) -> dict:
        """mmengine's ``BaseModel.train_step``, with the optimizer wrapper's
        context (autocast, gradient accumulation) entered and left, and the
        update (backward, clipping, optimizer step, the hooks wrapped
        around it) run, eagerly when ``compile`` compiles this step: dynamo
        cannot trace mmengine's scheduler wrapper around the optimizer step
        (torch 2.14) nor, in torch 2.11, its autocast helper; the
        multi-tensor update needs no compiling to be launch-light."""
        context = _enter_optim_context(optim_wrapper, self)
        try:
            data = self.data_preprocessor(data, True)
            losses = self._run_forward(data, mode='loss')
        finally:
            _exit_optim_context(context)
        loss, log_vars = self.parse_losses(losses)
        _update_params(optim_wrapper, loss)
        return log_vars

    #: Every load checks that the weights fit (see ``_load_from_state_dict``).
    checks_loaded_weights = True

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # Both torch and mmengine hand children a filtered copy of the state
        # dict, so the keys move here, at the root, before the backbone and
        # head see them; and here the whole checkpoint is checked, because
        # mmengine loads with strict=False and would only log a misfit.
        relocate_mmpretrain_keys(state_dict, prefix)
        ours = {key[len(prefix):]: value for key, value in state_dict.items()
                if key.startswith(prefix)}
        check_state_dict_fits(self.state_dict(), ours,
                              optional=AUX_CLASSIFIER_PREFIXES)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
