"""Read checkpoints without running code from them.

Every checkpoint our tools, converters and APIs read goes through
:func:`load_checkpoint_file`: ``torch.load(weights_only=True)`` with the
types mmengine writes allowed for that one call (:mod:`.safe_globals`), and
each way it can fail turned into one :class:`CheckpointError` line. The
Runner's own loads (``load_from``, ``--resume``) fail the same ways; the
tools run them inside :func:`checkpoint_errors_named`.
"""
import contextlib
import pickle
from typing import Dict, Iterator, Optional

import torch

from .safe_globals import mmengine_checkpoint_globals


class CheckpointError(RuntimeError):
    """A checkpoint cannot be read, is unsafe, or does not fit the model."""


def _is_pickle_stream(path: str) -> bool:
    """Whether ``path`` is a bare pickle (protocol 2+), as ``pickle.dump``
    or old ``torch.save`` write, rather than torch's zip format."""
    try:
        with open(path, 'rb') as f:
            return f.read(1) == b'\x80'
    except OSError:
        return False


def explain_load_failure(path: str,
                         error: BaseException) -> Optional[CheckpointError]:
    """The :class:`CheckpointError` for ``error`` raised while
    ``torch.load`` read ``path`` (by us or by the Runner), or None when
    ``error`` is not one of the ways reading fails.

    torch's message for a refused pickle goes on to advise
    ``weights_only=False``, the unsafe step; only the line that names what
    was refused is passed on.

    Args:
        path (str): The checkpoint file.
        error (BaseException): What ``torch.load`` raised.

    Returns:
        CheckpointError | None: One line naming ``path`` and what to do.
    """
    if isinstance(error, pickle.UnpicklingError):
        refused = [line.strip() for line in str(error).splitlines()
                   if 'global' in line.lower()
                   or 'unsupported' in line.lower()]
        if not (_is_pickle_stream(path)
                or any('global' in line.lower() for line in refused)):
            return CheckpointError(
                f'cannot read checkpoint {path}: the file is truncated or '
                'not a PyTorch checkpoint')
        detail = f' ({refused[0]})' if refused else ''
        return CheckpointError(
            f'refusing to load {path}: it holds pickled Python objects '
            f'outside the allow-list, and unpickling them could run code'
            f'{detail}; nothing in it was run. If you trust the file, '
            'rewrite it as plain tensors with: python '
            'tools/model_converters/publish_model.py --trust-pickle '
            f'{path} OUT.pth')
    reading_failure = isinstance(error, EOFError) or (
        isinstance(error, RuntimeError)
        and 'PytorchStreamReader' in str(error))
    if reading_failure:
        first = str(error).strip().splitlines()[0] if str(error) else \
            type(error).__name__
        return CheckpointError(
            f'cannot read checkpoint {path}: the file is truncated or not '
            f'a PyTorch checkpoint ({first})')
    return None


def name_checkpoint_file(error: CheckpointError, path: str) -> CheckpointError:
    """``error`` (raised by a model's load, which does not know the file)
    with the checkpoint's path in its message.

    Example:
        >>> str(name_checkpoint_file(
        ...     CheckpointError('the checkpoint does not fit'), 'a.pth'))
        'checkpoint a.pth does not fit'
    """
    message = str(error)
    if path in message:
        return error
    if message.startswith('the checkpoint'):
        return CheckpointError(
            message.replace('the checkpoint', f'checkpoint {path}', 1))
    return CheckpointError(f'checkpoint {path}: {message}')


@contextlib.contextmanager
def checkpoint_errors_named(path: Optional[str]) -> Iterator[None]:
    """Turn the ways loading ``path`` fails inside the block (reading it,
    or a model's fit check) into one :class:`CheckpointError` that names
    ``path``; any other error passes unchanged. For our reader and for the
    tools around the Runner's own load (``load_from``, ``--resume``).

    Args:
        path (str, optional): The checkpoint; None passes every error on.

    Example:
        >>> with checkpoint_errors_named('epoch_1.pth'):  # doctest: +SKIP
        ...     runner.train()
    """
    try:
        yield
    except CheckpointError as error:
        if path is None:
            raise
        raise name_checkpoint_file(error, path) from None
    except (pickle.UnpicklingError, RuntimeError, EOFError) as error:
        explained = explain_load_failure(path, error) if path else None
        if explained is None:
            raise
        raise explained from None


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
        # The allow-list holds for this call only; the process's own
        # torch.serialization settings are left as they were.
        with checkpoint_errors_named(path), torch.serialization.safe_globals(
                mmengine_checkpoint_globals()):
            checkpoint = torch.load(path, map_location='cpu',
                                    weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f'checkpoint file not found: {path}') from None
    except OSError as error:
        raise CheckpointError(
            f'cannot read checkpoint {path}: {error.strerror}') from None
    if not isinstance(checkpoint, dict):
        raise CheckpointError(
            f'cannot use checkpoint {path}: expected a dict, got '
            f'{type(checkpoint).__name__}')
    return checkpoint


def state_dict_of(checkpoint: dict) -> Dict[str, torch.Tensor]:
    """The weights in a checkpoint: its ``state_dict`` (mmengine),
    ``model`` (some trainers) or the checkpoint itself (a bare state
    dict)."""
    for key in ('state_dict', 'model'):
        if isinstance(checkpoint.get(key), dict):
            return checkpoint[key]
    return checkpoint


def read_weights(path: str) -> Dict[str, torch.Tensor]:
    """A state dict from ``path``: ``.safetensors`` (as the Hugging Face
    hub serves timm's weights), or a torch file read with
    :func:`load_checkpoint_file` (plain, or wrapped in ``state_dict`` /
    ``model``).

    Raises:
        CheckpointError: The file is missing, truncated or unsafe.
    """
    if path.endswith('.safetensors'):
        from safetensors.torch import load_file
        try:
            return load_file(path)
        except (OSError, RuntimeError) as error:
            raise CheckpointError(f'cannot read {path}: {error}') from None
    return state_dict_of(load_checkpoint_file(path))
