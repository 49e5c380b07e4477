"""Check that a checkpoint's weights fit a model before they are used.

mmengine loads with ``strict=False`` and only logs what did not fit, so a
1000-class checkpoint under a 10-class config, or another network's
weights, would otherwise run half-initialised. ``InceptionClassifier`` runs
this check on every load of its own state (``load_from``, ``--resume``,
``init_cfg``, :func:`load_checked_weights`); the converters run it on the
models they build.
"""
from typing import Iterable, Mapping

import torch
from mmengine.model import is_model_wrapper

from .layout import AUX_CLASSIFIER_PREFIXES
from .reading import (CheckpointError, checkpoint_errors_named,
                      load_checkpoint_file, state_dict_of)

_SHOWN = 5


def _listing(title: str, items: list) -> str:
    shown = ', '.join(items[:_SHOWN])
    more = f' and {len(items) - _SHOWN} more' if len(items) > _SHOWN else ''
    return f'{len(items)} {title}: {shown}{more}'


def _hint(state_dict: Mapping, expected: Mapping, missing: list) -> str:
    fc = state_dict.get('head.fc.weight')
    if fc is not None and 'head.fc.weight' in expected and \
            fc.shape[0] != expected['head.fc.weight'].shape[0]:
        return (f' The checkpoint classifies {fc.shape[0]} classes and the '
                f'config {expected["head.fc.weight"].shape[0]}: set '
                'model.head.num_classes to match, or fine-tune from it '
                '(configs/finetune/).')
    if 'Conv2d_1a_3x3.conv.weight' in state_dict and \
            'backbone.Conv2d_1a_3x3.conv.weight' in expected:
        return (' It is a torchvision or timm Inception V3 state dict: '
                'convert it first with tools/model_converters/'
                'torchvision2mmpre_inception.py (or '
                'timm2mmpre_inception.py for timm\'s weights).')
    if len(missing) > len(expected) // 2:
        return ' Is it a checkpoint of another architecture?'
    return ''


def check_state_dict_fits(expected: Mapping[str, torch.Tensor],
                          state_dict: Mapping[str, torch.Tensor],
                          source: str = 'the checkpoint',
                          optional: Iterable[str] = ()) -> None:
    """Raise unless ``state_dict`` fills every tensor of ``expected`` (a
    model's state dict, in our layout) with the right shape and finite
    values.

    Args:
        expected (Mapping): The model's own state dict.
        state_dict (Mapping): The weights about to be loaded, in our layout.
        source (str): What they come from, for the message, e.g.
            ``'checkpoint epoch_3.pth'``.
        optional (Iterable[str]): Key prefixes ``state_dict`` may lack, e.g.
            :data:`AUX_CLASSIFIER_PREFIXES`.

    Raises:
        CheckpointError: Listing the shape mismatches, the missing and the
            unexpected keys (or the tensors with NaN or inf), with a hint
            for the common cases.

    Example:
        >>> import torch
        >>> check_state_dict_fits({'w': torch.zeros(2)}, {'w': torch.ones(3)})
        Traceback (most recent call last):
        ...
        mmpre_inception.checkpoint.reading.CheckpointError: the checkpoint \
does not fit the model: 1 with another shape: w (3,) in the checkpoint, \
(2,) in the model.
    """
    optional = tuple(optional)
    mismatched = [
        f'{key} {tuple(state_dict[key].shape)} in the checkpoint, '
        f'{tuple(value.shape)} in the model'
        for key, value in expected.items()
        if key in state_dict and hasattr(state_dict[key], 'shape')
        and state_dict[key].shape != value.shape
    ]
    missing = [key for key in expected
               if key not in state_dict and not key.startswith(optional)]
    unexpected = [key for key in state_dict if key not in expected]
    if not (mismatched or missing or unexpected):
        nonfinite = [key for key, value in state_dict.items()
                     if isinstance(value, torch.Tensor)
                     and value.is_floating_point()
                     and not torch.isfinite(value).all()]
        if nonfinite:
            raise CheckpointError(
                f'{source} holds NaN or infinite values: '
                f'{_listing("tensors", nonfinite)}. It was saved from a '
                'diverged run: use an earlier checkpoint')
        return
    problems = []
    if mismatched:
        problems.append(_listing('with another shape', mismatched))
    if missing:
        problems.append(_listing('missing', missing))
    if unexpected:
        problems.append(_listing('unexpected', unexpected))
    raise CheckpointError(
        f'{source} does not fit the model: ' + '; '.join(problems) + '.' +
        _hint(state_dict, expected, missing))


def load_checked_weights(model: torch.nn.Module, path: str) -> dict:
    """Read ``path`` safely and load its weights into ``model``, which
    checks that they fit (``InceptionClassifier`` does on every load; any
    other model is checked here).

    Args:
        model (nn.Module): The model, possibly in a DDP wrapper.
        path (str): Checkpoint file, in our layout or mmpretrain's.

    Returns:
        dict: The checkpoint, e.g. for its ``meta``.

    Raises:
        CheckpointError: As :func:`load_checkpoint_file` and
            :func:`check_state_dict_fits`.
    """
    if is_model_wrapper(model):
        model = model.module
    checkpoint = load_checkpoint_file(path)
    weights = state_dict_of(checkpoint)
    if not getattr(model, 'checks_loaded_weights', False):
        check_state_dict_fits(model.state_dict(), weights,
                              f'checkpoint {path}', AUX_CLASSIFIER_PREFIXES)
    with checkpoint_errors_named(path):
        model.load_state_dict(weights, strict=False)
    return checkpoint
