"""Let ``torch.load(weights_only=True)`` read the checkpoints mmengine writes.

torch >= 2.6 unpickles with ``weights_only=True`` by default and refuses any
type it does not know. mmengine's Runner checkpoints carry its message hub:
``HistoryBuffer`` objects holding numpy arrays, and the buffers' statistics
methods pickled as ``getattr(HistoryBuffer, 'mean')``. So ``--resume`` fails.

Instead of unpickling without restriction (which runs any code a checkpoint
file carries), :func:`mmengine_checkpoint_globals` lists exactly those
types, for ``torch.serialization.safe_globals``: our reader applies them to
each of its loads, and ``MMEngineSafeGlobalsHook`` (in the configs'
``default_hooks``) to the Runner's loads during a run.
``builtins.getattr`` itself is never allowed: the name is bound
to :func:`_history_buffer_method`, which resolves only the four statistics
methods and refuses everything else.
"""
import pickle
from typing import Callable

import numpy as np
from mmengine.logging import HistoryBuffer

_HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')


def _history_buffer_method(owner: type, name: str) -> Callable:
    """Stand-in for ``getattr`` inside checkpoints: resolves only
    ``HistoryBuffer.{min,max,current,mean}``."""
    if owner is HistoryBuffer and name in _HISTORY_BUFFER_METHODS:
        return getattr(HistoryBuffer, name)
    owner_name = getattr(owner, '__qualname__', type(owner).__name__)
    raise pickle.UnpicklingError(
        f'Unsupported global: getattr({owner_name}, {name!r}); only '
        'HistoryBuffer statistics methods are allowed')


def _numpy_reconstruct() -> Callable:
    # numpy 2 moved numpy.core to numpy._core; pickles name the new path.
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


def _numpy_scalar() -> Callable:
    try:
        from numpy._core.multiarray import scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import scalar
    return scalar


def numpy_globals() -> list:
    """What pickled numpy arrays, scalars and dtypes ask for, in the form
    of ``torch.serialization.add_safe_globals``: a type, or a
    ``(callable, 'module.name')`` pair."""
    core = 'numpy._core' if hasattr(np, '_core') else 'numpy.core'
    return [
        np.ndarray,
        np.dtype,
        (_numpy_reconstruct(), f'{core}.multiarray._reconstruct'),
        (_numpy_scalar(), f'{core}.multiarray.scalar'),
        # numpy >= 1.25 pickles dtypes by their concrete class.
        *[type(np.dtype(code)) for code in '?bBhHiIlLqQefdgFDG'],
    ]


def mmengine_checkpoint_globals() -> list:
    """Return the allow-list for ``torch.serialization.add_safe_globals``:
    the non-tensor types found in mmengine Runner checkpoints."""
    return [
        HistoryBuffer,
        (_history_buffer_method, 'builtins.getattr'),
        *numpy_globals(),
    ]
