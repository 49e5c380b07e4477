"""Atomic writes for checkpoints and every file our tools save.

mmengine's ``LocalBackend`` opens the final path and writes into it, so a
crash or a full disk while a checkpoint is being saved leaves a truncated
``epoch_N.pth``, and ``last_checkpoint`` may already name it. The backend
here writes a temporary file in the same folder, flushes and fsyncs it,
and renames it over the final name, which POSIX makes atomic: readers see
the old file or the new one, never a part. It is registered as mmengine's
file backend ``'atomic_local'``, which a config selects with
``backend_args=dict(backend='atomic_local')`` on its checkpoint hook (our
``AtomicCheckpointHook`` does by default); mmengine's ``'local'`` backend is
left as it is.
"""
import io
import os
import os.path as osp
import tempfile
from pathlib import Path
from typing import Dict, Union

import torch
from mmengine.fileio import LocalBackend, register_backend


def _umask() -> int:
    # The process umask can only be read by setting it.
    mask = os.umask(0o22)
    os.umask(mask)
    return mask


def write_atomically(data: bytes, filepath: Union[str, Path]) -> None:
    """Write ``data`` to ``filepath`` through a temporary file and a
    rename; on any failure the temporary file is removed and the previous
    ``filepath`` (if any) is left as it was.

    The file gets the permissions ``open()`` would give it (0666 less the
    umask), not the temporary file's 0600, so colleagues sharing a cluster
    can read checkpoints as usual.

    Args:
        data (bytes): Content.
        filepath (str | Path): Destination.

    Raises:
        OSError: With ``filepath`` in the message (a full disk names the
            checkpoint it could not write, not a temporary file).
    """
    folder = osp.dirname(osp.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(
        dir=folder, prefix=f'.{osp.basename(filepath)}.', suffix='.tmp')
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, filepath)
    except BaseException as error:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        if isinstance(error, OSError) and error.errno is not None:
            raise OSError(error.errno, f'cannot write {filepath}: '
                          f'{error.strerror}') from None
        raise
    # Make the rename itself durable.
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """mmengine's ``LocalBackend`` whose ``put`` and ``put_text`` write
    atomically (see :func:`write_atomically`)."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        write_atomically(obj, filepath)

    def put_text(self, obj: str, filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        write_atomically(obj.encode(encoding), filepath)


def save_checkpoint_atomically(state_dict: Dict[str, torch.Tensor],
                               path: str, meta: dict) -> None:
    """Save ``{'state_dict': ..., 'meta': ...}``, as mmengine lays out
    checkpoints, with :func:`write_atomically`.

    Example:
        >>> save_checkpoint_atomically({}, 'out.pth', {})  # doctest: +SKIP
    """
    buffer = io.BytesIO()
    torch.save({'state_dict': state_dict, 'meta': meta}, buffer)
    write_atomically(buffer.getvalue(), path)
