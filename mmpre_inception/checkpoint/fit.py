"""Check that a checkpoint's weights fit a model before they are used.

mmengine loads with ``strict=False`` and only logs what did not fit, so a
1000-class checkpoint under a 10-class config, or another network's
weights, would otherwise run half-initialised. The Runner
(:class:`~mmpre_inception.engine.ConsoleSummaryRunner`) runs
:func:`fit_checkpoint` before any hook sees a checkpoint, the inference
API and the tools through :func:`load_checked_weights`, and
``InceptionClassifier`` on every load of its own state (mmpretrain's tools
included); the converters run it on the models they build.
"""
from typing import Iterable, Mapping, Optional

import torch
from mmengine.model import BaseTTAModel, is_model_wrapper

from .layout import AUX_CLASSIFIER_PREFIXES, relocate_mmpretrain_keys
from .reading import CheckpointError, checkpoint_errors_named, read_checkpoint

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


def _nonfinite(state_dict: Mapping[str, torch.Tensor]) -> list:
    floats = {key: value for key, value in state_dict.items()
              if isinstance(value, torch.Tensor) and value.is_floating_point()}
    # One fused pass over all tensors (5 ms for a training checkpoint, where
    # a test per tensor took 60 to 100 ms): a NaN or an infinity anywhere
    # makes the total norm NaN or infinite. So can squares of huge finite
    # values; the pass per tensor then clears them.
    if not floats or torch.isfinite(
            torch.nn.utils.get_total_norm(list(floats.values()))):
        return []
    return [key for key, value in floats.items()
            if not torch.isfinite(value).all()]


def _negative_variances(state_dict: Mapping[str, torch.Tensor]) -> list:
    return [f'{key} (down to {value.min().item():.3g})'
            for key, value in state_dict.items()
            if key.endswith('running_var') and isinstance(value, torch.Tensor)
            and (value < 0).any()]


def check_state_dict_fits(expected: Mapping[str, torch.Tensor],
                          state_dict: Mapping[str, torch.Tensor],
                          source: str = 'the checkpoint',
                          optional: Iterable[str] = ()) -> None:
    """Raise unless ``state_dict`` fills every tensor of ``expected`` (a
    model's state dict, in our layout) with the right shape and values a
    training run can produce.

    Args:
        expected (Mapping): The model's own state dict.
        state_dict (Mapping): The weights about to be loaded, in our layout.
        source (str): What they come from, for the message, e.g.
            ``'checkpoint epoch_3.pth'``.
        optional (Iterable[str]): Key prefixes ``state_dict`` may lack, e.g.
            :data:`AUX_CLASSIFIER_PREFIXES`.

    Raises:
        CheckpointError: Listing the shape mismatches, the missing and the
            unexpected keys, or the tensors with NaN or infinite values or
            BatchNorm variances below zero, with a hint for the common
            cases.

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
        nonfinite = _nonfinite(state_dict)
        if nonfinite:
            raise CheckpointError(
                f'{source} holds NaN or infinite values: '
                f'{_listing("tensors", nonfinite)}. It was saved from a '
                'diverged run: use an earlier checkpoint')
        negative = _negative_variances(state_dict)
        if negative:
            raise CheckpointError(
                f'{source} holds BatchNorm running variances below zero, '
                'which no training produces (a variance is a mean of '
                f'squares): {_listing("tensors", negative)}. The file was '
                'damaged or edited: use another checkpoint')
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


def _strip_wrapper(model: torch.nn.Module) -> torch.nn.Module:
    # DDP and test-time augmentation wrap the model whose weights a
    # checkpoint holds, as mmengine's load_state_dict unwraps them.
    while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
        model = model.module
    return model


def fit_checkpoint(model: torch.nn.Module, checkpoint: dict,
                   path: str) -> dict:
    """Put a checkpoint of :func:`read_checkpoint` in ``model``'s key layout
    (mmpretrain's ``backbone.fc.*`` moved to ``head.fc.*``, in place) and
    check that it fits, before anything uses it.

    Args:
        model (nn.Module): The model, possibly in a DDP wrapper.
        checkpoint (dict): As :func:`read_checkpoint` returns it.
        path (str): The file, for messages.

    Returns:
        dict: ``checkpoint``.

    Raises:
        CheckpointError: As :func:`check_state_dict_fits`, naming ``path``.
    """
    model = _strip_wrapper(model)
    expected = model.state_dict()
    weights = checkpoint['state_dict']
    if any(key.startswith('head.') for key in expected):
        with checkpoint_errors_named(path):
            try:
                relocate_mmpretrain_keys(weights)
            except KeyError as error:
                raise CheckpointError(error.args[0]) from None
    check_state_dict_fits(expected, weights, f'checkpoint {path}',
                          AUX_CLASSIFIER_PREFIXES)
    return checkpoint


def load_checked_weights(model: torch.nn.Module, path: str,
                         checkpoint: Optional[dict] = None) -> dict:
    """Read ``path`` safely and load its weights into ``model`` once they
    are checked to fit.

    Args:
        model (nn.Module): The model, possibly in a DDP wrapper.
        path (str): Any checkpoint :func:`read_checkpoint` reads, in our
            layout or mmpretrain's.
        checkpoint (dict, optional): ``read_checkpoint(path)``, when the
            caller has read it already.

    Returns:
        dict: The checkpoint, e.g. for its ``meta``.

    Raises:
        CheckpointError: As :func:`read_checkpoint` and
            :func:`check_state_dict_fits`.
    """
    model = _strip_wrapper(model)
    checkpoint = fit_checkpoint(model, checkpoint or read_checkpoint(path),
                                path)
    with checkpoint_errors_named(path):
        model.load_state_dict(checkpoint['state_dict'], strict=False)
    return checkpoint
