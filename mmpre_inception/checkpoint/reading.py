"""Read checkpoints without running code from them, into one layout.

Every checkpoint a tool, a converter, the inference API or the Runner reads
goes through :func:`read_checkpoint`:

1. the file is read safely: ``torch.load(weights_only=True)`` with the
   types mmengine writes allowed for that one call (:mod:`.safe_globals`),
   or ``safetensors``; a URL is downloaded to torch's hub cache first;
2. the container is checked: a mapping of names to tensors (a flat state
   dict), or a trainer's checkpoint holding one under ``state_dict``
   (mmengine, timm), ``model`` (torchvision's and DeiT's references),
   ``ema_state_dict`` or ``state_dict_ema`` (only the average saved);
3. it is returned in mmengine's layout, ``{'state_dict': weights, 'meta':
   {...}, ...}``, with a ``module.`` prefix that every key has (a model
   saved from inside DDP) taken off.

Each way this fails is one :class:`CheckpointError` line naming the file.
"""
import contextlib
import os
import os.path as osp
import pickle
import zipfile
from collections import OrderedDict
from typing import Dict, Iterator, Mapping, Optional, Tuple
from urllib.parse import urlparse

import torch

from mmpre_inception.errors import CheckpointError

from .safe_globals import mmengine_checkpoint_globals

#: Where trainers keep the weights in their checkpoints, in the order they
#: are looked for: mmengine and timm (``state_dict``), torchvision's and
#: DeiT's references (``model``), and the weight averages of mmengine
#: (``ema_state_dict``) and timm (``state_dict_ema``) when nothing else is
#: saved.
WEIGHT_KEYS = ('state_dict', 'model', 'ema_state_dict', 'state_dict_ema')

_DDP_PREFIX = 'module.'


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
    ``torch.load`` read ``path``, or None when ``error`` is not one of the
    ways reading fails.

    torch's message for a refused pickle goes on to advise
    ``weights_only=False``, the unsafe step; only the line that names what
    was refused is passed on.

    Args:
        path (str): The checkpoint file.
        error (BaseException): What ``torch.load`` raised.

    Returns:
        CheckpointError | None: One line naming ``path`` and what to do.
    """
    lines = [line.strip() for line in str(error).splitlines()
             if line.strip()]
    if isinstance(error, pickle.UnpicklingError):
        refused = [line for line in lines if 'global' in line.lower()
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
    if isinstance(error, (EOFError, RuntimeError)):
        first = lines[0] if lines else type(error).__name__
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
    ``path``; any other error passes unchanged.

    Args:
        path (str, optional): The checkpoint; None passes every error on.

    Example:
        >>> with checkpoint_errors_named('epoch_1.pth'):  # doctest: +SKIP
        ...     model.load_state_dict(weights)
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


def _torch_load(path: str, map_location='cpu', mmap: bool = False):
    if mmap and not zipfile.is_zipfile(path):
        mmap = False  # torch maps only its zip format
    try:
        # The allow-list holds for this call only; the process's own
        # torch.serialization settings are left as they were.
        with torch.serialization.safe_globals(mmengine_checkpoint_globals()):
            return torch.load(path, map_location=map_location,
                              weights_only=True, mmap=mmap)
    except FileNotFoundError:
        raise CheckpointError(f'checkpoint file not found: {path}') from None
    except IsADirectoryError:
        raise CheckpointError(
            f'checkpoint {path} is a directory; give the checkpoint file '
            'in it (e.g. its epoch_N.pth)') from None
    except OSError as error:
        raise CheckpointError(
            f'cannot read checkpoint {path}: {error.strerror}') from None
    except Exception as error:  # torch raises many kinds on a bad file
        lines = str(error).strip().splitlines() or [type(error).__name__]
        raise explain_load_failure(path, error) or CheckpointError(
            f'cannot read checkpoint {path}: the file is truncated or not a '
            f'PyTorch checkpoint ({lines[0]})') from None


def load_checkpoint_file(path: str, map_location='cpu',
                         mmap: bool = False) -> dict:
    """``torch.load`` a checkpoint with ``weights_only=True``, as it is
    (no layout checked), turning the ways it fails into one clear
    :class:`CheckpointError`. Tools use :func:`read_checkpoint`.

    Args:
        path (str): Checkpoint file.
        map_location: As ``torch.load``'s. Defaults to ``'cpu'``.
        mmap (bool): Map the file's tensors instead of reading them (torch's
            zip format; other files are read).

    Returns:
        dict: The checkpoint (tensors, and the allow-listed types mmengine
        writes).

    Raises:
        CheckpointError: Missing, truncated or not a checkpoint; not a
            dict; or it holds pickled objects outside the allow-list
            (which never run).

    Example:
        >>> checkpoint = load_checkpoint_file('epoch_1.pth')  # doctest: +SKIP
    """
    checkpoint = _torch_load(str(path), map_location, mmap)
    if not isinstance(checkpoint, dict):
        raise CheckpointError(
            f'cannot use checkpoint {path}: it holds a '
            f'{type(checkpoint).__name__}, not a state dict (names mapped '
            'to tensors) or a training checkpoint')
    return checkpoint


def _read_safetensors(path: str) -> Dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file
    try:
        return load_file(path)
    except FileNotFoundError:
        raise CheckpointError(f'checkpoint file not found: {path}') from None
    except (OSError, RuntimeError, SafetensorError) as error:
        first = str(error).strip().splitlines()[0] if str(error) else ''
        raise CheckpointError(
            f'cannot read checkpoint {path}: not a complete safetensors '
            f'file ({first})') from None


def download_checkpoint(url: str) -> str:
    """The local copy of ``url`` in torch's hub cache (``$TORCH_HOME``),
    downloaded once, as mmengine and torchvision cache their weights.

    Raises:
        CheckpointError: It cannot be fetched (no network, a wrong
            address); the message names the URL and says to give a local
            file instead.
    """
    folder = osp.join(torch.hub.get_dir(), 'checkpoints')
    local = osp.join(folder, osp.basename(urlparse(url).path) or 'download')
    if osp.isfile(local):
        return local
    try:
        os.makedirs(folder, exist_ok=True)
        torch.hub.download_url_to_file(url, local, progress=False)
    except Exception as error:  # urllib's URLError, HTTPError, timeouts
        reason = getattr(error, 'reason', None) or error
        raise CheckpointError(
            f'cannot download checkpoint {url} ({reason}); download it '
            'where there is a network and give the local file instead'
        ) from None
    return local


def _is_tensor_mapping(value) -> bool:
    return isinstance(value, Mapping) and bool(value) and all(
        isinstance(key, str) and isinstance(item, torch.Tensor)
        for key, item in value.items())


def _weights_in(checkpoint: dict, path: str) -> Tuple[str, Mapping]:
    """``(where, weights)``: which key of ``checkpoint`` holds its weights
    (``''`` for a flat state dict) and the weights."""
    for key in WEIGHT_KEYS:
        if key not in checkpoint:
            continue
        weights = checkpoint[key]
        if isinstance(weights, Mapping):
            weights = {name: value for name, value in weights.items()
                       if not (key == 'ema_state_dict' and name == 'steps')}
        if not _is_tensor_mapping(weights):
            raise CheckpointError(
                f'cannot use checkpoint {path}: its {key!r} holds '
                f'{_describe(weights)}, not a mapping of names to tensors')
        return key, weights
    if _is_tensor_mapping(checkpoint):
        return '', checkpoint
    other = [key for key, value in checkpoint.items()
             if not isinstance(value, torch.Tensor)]
    if checkpoint and len(other) < len(checkpoint):
        raise CheckpointError(
            f'cannot use checkpoint {path}: a state dict holds only '
            f'tensors, but {other[0]!r} is {_describe(checkpoint[other[0]])}')
    keys = ', '.join(map(repr, list(checkpoint)[:6])) or 'none'
    raise CheckpointError(
        f'cannot use checkpoint {path}: it holds no weights (its keys: '
        f'{keys}); give a state dict, or a training checkpoint with '
        f'weights under one of {", ".join(WEIGHT_KEYS)}')


def _describe(value) -> str:
    if isinstance(value, Mapping):
        return 'an empty mapping' if not value else 'a mapping with ' \
            'entries that are not tensors'
    return f'a {type(value).__name__}'


def _without_ddp_prefix(weights: Mapping) -> Tuple[dict, bool]:
    """A copy of ``weights`` (with torch's per-module ``_metadata``, which
    versioned modules read when loading), ``module.`` taken off every key
    if every key has it."""
    prefixed = all(key.startswith(_DDP_PREFIX) for key in weights)
    start = len(_DDP_PREFIX) if prefixed else 0
    copy = OrderedDict((key[start:], value) for key, value in weights.items())
    metadata = getattr(weights, '_metadata', None)
    if metadata is not None:
        copy._metadata = OrderedDict(
            (key[start:] if key.startswith(_DDP_PREFIX) else key, value)
            for key, value in metadata.items())
    return copy, prefixed


def read_checkpoint(path: str, map_location='cpu',
                    mmap: bool = True) -> dict:
    """Read any checkpoint a user may bring, safely, into mmengine's layout.

    Args:
        path (str): A ``.pth`` / ``.pt`` / ``.bin`` torch file (a state
            dict or a trainer's checkpoint), a ``.safetensors`` file, or an
            ``http(s)://`` URL of one.
        map_location: As ``torch.load``'s. Defaults to ``'cpu'``.
        mmap (bool): Map the file's tensors instead of reading them (torch's
            zip format; other files are read), so that only the tensors
            used are read: a tool that copies the weights into a model
            never reads a training checkpoint's optimizer state and
            average, three quarters of it. Give False for tensors kept
            while the file may go (a resume's optimizer state: a mapping
            holds the file until it ends). Defaults to True.

    Returns:
        dict: The checkpoint's entries, with ``state_dict`` (the weights,
        names mapped to tensors, without a DDP ``module.`` prefix) and
        ``meta`` (a dict) always present; ``meta['weights_from']`` says
        where the weights were found (``'state_dict'``, ``'model'``,
        ``'ema_state_dict'``, ``'state_dict_ema'`` or ``''`` for a flat
        file) and ``meta['ddp_prefix_removed']`` whether ``module.`` was
        taken off.

    Raises:
        CheckpointError: Missing, truncated, unsafe (nothing in it ran), or
            holding no weights; one line naming ``path``.

    Example:
        >>> checkpoint = read_checkpoint('epoch_1.pth')  # doctest: +SKIP
        >>> sorted(checkpoint)
        ['message_hub', 'meta', 'optimizer', 'param_schedulers', 'state_dict']
    """
    path = str(path)
    if path.startswith(('http://', 'https://')):
        path = download_checkpoint(path)
    if path.endswith('.safetensors'):
        checkpoint = {'state_dict': _read_safetensors(path)}
    else:
        checkpoint = load_checkpoint_file(path, map_location, mmap)
    where, weights = _weights_in(checkpoint, path)
    weights, prefixed = _without_ddp_prefix(weights)
    meta = checkpoint.get('meta')
    result = {key: value for key, value in checkpoint.items()
              if key != where} if where else {}
    result['meta'] = dict(meta) if isinstance(meta, Mapping) else {}
    result['meta'].update(weights_from=where, ddp_prefix_removed=prefixed)
    result['state_dict'] = weights
    return result


def read_weights(path: str) -> Dict[str, torch.Tensor]:
    """The weights of any checkpoint :func:`read_checkpoint` reads.

    Raises:
        CheckpointError: As :func:`read_checkpoint`.
    """
    return read_checkpoint(path)['state_dict']
