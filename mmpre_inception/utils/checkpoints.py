"""Read checkpoints safely and check them against a model before use.

Every checkpoint the tools read goes through :func:`load_checkpoint_file`
(``torch.load(weights_only=True)`` with our allow-list), and through
:func:`check_state_dict_matches` before the Runner loads it: mmengine loads
with ``strict=False`` and only logs what did not fit, so a 1000-class
checkpoint under a 10-class config, or another network's weights, would
otherwise run half-initialised.
"""
import pickle
from typing import Dict, Iterable

import torch

from mmpre_inception.models.classifiers import relocate_mmpretrain_keys

#: Keys the head may lack at inference: mmpretrain's published checkpoint
#: was trained without the auxiliary classifier, which inference skips.
INFERENCE_OPTIONAL = ('head.AuxLogits.', )
_SHOWN = 5


class CheckpointError(RuntimeError):
    """A checkpoint cannot be read, is unsafe, or does not fit the model."""


def load_checkpoint_file(path: str) -> dict:
    """``torch.load`` a checkpoint with ``weights_only=True``, turning the
    ways it fails into one clear :class:`CheckpointError`.

    Args:
        path (str): Checkpoint file.

    Returns:
        dict: The checkpoint (tensors, and the allow-listed types mmengine
        writes).

    Raises:
        CheckpointError: Missing, truncated or not a checkpoint; or it holds
            pickled objects outside the allow-list (which never run).

    Example:
        >>> checkpoint = load_checkpoint_file('epoch_1.pth')  # doctest: +SKIP
    """
    try:
        checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f'checkpoint file not found: {path}') from None
    except pickle.UnpicklingError as error:
        # torch's message goes on to advise weights_only=False, the unsafe
        # step; only the line naming what was refused is passed on.
        refused = [line.strip() for line in str(error).splitlines()
                   if 'global' in line.lower() or 'unsupported' in line.lower()]
        if not (_is_pickle_stream(path) or any('global' in line.lower()
                                                 for line in refused)):
            raise CheckpointError(
                f'cannot read checkpoint {path}: the file is truncated or '
                'not a PyTorch checkpoint') from None
        detail = f' ({refused[0]})' if refused else ''
        raise CheckpointError(
            f'refusing to load {path}: it holds pickled Python objects '
            f'outside the allow-list, and unpickling them could run code'
            f'{detail}; nothing in it was run. If you trust the file, '
            'rewrite it as plain tensors with: python '
            'tools/model_converters/publish_model.py --trust-pickle '
            f'{path} OUT.pth') from None
    except (RuntimeError, EOFError, OSError) as error:
        first = str(error).strip().splitlines()[0] if str(error) else \
            type(error).__name__
        raise CheckpointError(
            f'cannot read checkpoint {path}: the file is truncated or not '
            f'a PyTorch checkpoint ({first})') from None
    if not isinstance(checkpoint, dict):
        raise CheckpointError(
            f'cannot use checkpoint {path}: expected a dict, got '
            f'{type(checkpoint).__name__}')
    return checkpoint


def _is_pickle_stream(path: str) -> bool:
    """Whether ``path`` is a bare pickle (protocol 2+), as ``pickle.dump``
    or old ``torch.save`` write, rather than torch's zip format."""
    with open(path, 'rb') as f:
        return f.read(1) == b'\x80'


def state_dict_of(checkpoint: dict) -> Dict[str, torch.Tensor]:
    """The weights in a checkpoint: its ``state_dict`` (mmengine),
    ``model`` (some trainers) or the checkpoint itself (a bare state
    dict)."""
    for key in ('state_dict', 'model'):
        if isinstance(checkpoint.get(key), dict):
            return checkpoint[key]
    return checkpoint


def _listing(title: str, items: list) -> str:
    shown = ', '.join(items[:_SHOWN])
    more = f' and {len(items) - _SHOWN} more' if len(items) > _SHOWN else ''
    return f'{len(items)} {title}: {shown}{more}'


def check_state_dict_matches(model: torch.nn.Module,
                             state_dict: Dict[str, torch.Tensor],
                             path: str,
                             optional: Iterable[str] = ()) -> None:
    """Raise unless ``state_dict`` fills every tensor of ``model`` with the
    right shape (mmpretrain's layout is accepted, as on load).

    Args:
        model (nn.Module): The model about to be loaded.
        state_dict (dict): Weights from the checkpoint.
        path (str): The checkpoint's path, for the message.
        optional (Iterable[str]): Key prefixes the checkpoint may lack,
            e.g. :data:`INFERENCE_OPTIONAL`.

    Raises:
        CheckpointError: Listing the shape mismatches, the missing and the
            unexpected keys, with a hint for the common cases.
    """
    state_dict = dict(state_dict)
    relocate_mmpretrain_keys(state_dict)
    expected = model.state_dict()
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
                f'checkpoint {path} holds NaN or infinite values: '
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
    hint = ''
    fc = state_dict.get('head.fc.weight')
    if fc is not None and 'head.fc.weight' in expected and \
            fc.shape[0] != expected['head.fc.weight'].shape[0]:
        hint = (f' The checkpoint classifies {fc.shape[0]} classes and the '
                f'config {expected["head.fc.weight"].shape[0]}: set '
                'model.head.num_classes to match, or fine-tune from it '
                '(configs/finetune/).')
    elif 'Conv2d_1a_3x3.conv.weight' in state_dict and \
            'backbone.Conv2d_1a_3x3.conv.weight' in expected:
        hint = (' It is a torchvision or timm Inception V3 state dict: '
                'convert it first with tools/model_converters/'
                'torchvision2mmpre_inception.py (or '
                'timm2mmpre_inception.py for timm\'s weights).')
    elif len(missing) > len(expected) // 2:
        hint = ' Is it a checkpoint of another architecture?'
    raise CheckpointError(
        f'checkpoint {path} does not fit the model: ' + '; '.join(problems) +
        '.' + hint)


def load_checked_weights(model: torch.nn.Module, path: str,
                         optional: Iterable[str] = INFERENCE_OPTIONAL,
                         load: bool = True) -> dict:
    """Read ``path`` safely, check that it fits ``model`` and (with
    ``load``) load its weights; the one path every tool takes.

    Args:
        model (nn.Module): The model, possibly in a DDP wrapper.
        path (str): Checkpoint file.
        optional (Iterable[str]): Key prefixes the checkpoint may lack.
            Defaults to :data:`INFERENCE_OPTIONAL`.
        load (bool): Load the weights into ``model`` (missing optional keys
            keep their values). False only checks. Defaults to True.

    Returns:
        dict: The checkpoint, e.g. for its ``meta``.

    Raises:
        CheckpointError: As :func:`load_checkpoint_file` and
            :func:`check_state_dict_matches`.
    """
    from mmengine.model import is_model_wrapper
    if is_model_wrapper(model):
        model = model.module
    checkpoint = load_checkpoint_file(path)
    weights = state_dict_of(checkpoint)
    check_state_dict_matches(model, weights, path, optional)
    if load:
        model.load_state_dict(weights, strict=False)
    return checkpoint
