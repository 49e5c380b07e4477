"""Result files (``tools/test.py --out``): written atomically, read without
running code.

A result file is a pickle of mmengine's ``DumpResults`` layout: a list of
one dict per sample, holding strings, numbers, tuples and tensors. Plain
``pickle.load`` (what ``mmengine.load`` does) runs whatever a file asks
for, and result files travel between colleagues and with papers'
artefacts as often as checkpoints. :func:`load_results` unpickles with an
allow-list of exactly what that layout needs, so mmpretrain's files read
here and ours read in mmpretrain's tools (plain pickle, protocol 2).
"""
import io
import json
import os.path as osp
import pickle
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Sequence

import torch
from mmengine.evaluator import DumpResults
from mmengine.logging import print_log

from mmpre_inception.checkpoint import numpy_globals, write_atomically
from mmpre_inception.errors import ConfigError, ResultsFileError
from mmpre_inception.registry import METRICS


class _Refused(pickle.UnpicklingError):
    """The file asks for something outside the allow-list."""


def _storage_from_bytes(data: bytes):
    # A pickled tensor keeps its storage as torch.save bytes, which torch's
    # own helper loads with weights_only=False; these load restricted.
    try:
        return torch.load(io.BytesIO(data), map_location='cpu',
                          weights_only=True)
    except pickle.UnpicklingError:
        raise _Refused('a tensor storage holding other objects') from None


def _latin1_bytes(text: str, encoding: str = 'latin1') -> bytes:
    # Protocol 2 writes bytes as _codecs.encode(text, 'latin1'); only that.
    if not isinstance(text, str) or encoding != 'latin1':
        raise _Refused(
            f'_codecs.encode is allowed for latin1 text only, not '
            f'{type(text).__name__} in {encoding!r}')
    return text.encode('latin1')


def _allowed_globals() -> Dict[str, Callable]:
    allowed = {
        'torch._utils._rebuild_tensor_v2': torch._utils._rebuild_tensor_v2,
        'torch.storage._load_from_bytes': _storage_from_bytes,
        'collections.OrderedDict': OrderedDict,
        '_codecs.encode': _latin1_bytes,
    }
    for entry in numpy_globals():
        target, name = entry if isinstance(entry, tuple) else (
            entry, f'{entry.__module__}.{entry.__qualname__}')
        allowed[name] = target
    return allowed


class _AllowListUnpickler(pickle.Unpickler):

    def __init__(self, file, allowed: Dict[str, Callable]) -> None:
        super().__init__(file)
        self._allowed = allowed

    def find_class(self, module: str, name: str) -> Any:
        target = self._allowed.get(f'{module}.{name}')
        if target is None:
            raise _Refused(f'{module}.{name}')
        return target


#: What every sample of a classification result file holds.
SAMPLE_KEYS = ('pred_score', 'pred_label', 'gt_label')


def load_results(path: str,
                 required: Sequence[str] = SAMPLE_KEYS) -> List[dict]:
    """The samples of a result file, unpickled with an allow-list: tensors,
    numpy arrays and plain Python values; nothing in the file runs.

    Args:
        path (str): A ``tools/test.py --out`` file (ours or mmpretrain's).
        required (Sequence[str]): Keys every sample must have.

    Returns:
        list[dict]: One dict per sample, as mmengine's ``DumpResults``
        wrote them.

    Raises:
        ConfigError: The file is missing (a path typed wrong).
        ResultsFileError: The file is not a pickle, asks for anything
            outside the allow-list, or is not a list of samples.

    Example:
        >>> samples = load_results('preds.pkl')  # doctest: +SKIP
        >>> samples[0]['pred_score'].shape
        torch.Size([1000])
    """
    if not osp.isfile(path):
        raise ConfigError(f'results file not found: {path}')
    try:
        with open(path, 'rb') as f:
            samples = _AllowListUnpickler(f, _allowed_globals()).load()
    except _Refused as error:
        raise ResultsFileError(
            f'refusing to read {path}: it asks to unpickle {error}, which '
            'a tools/test.py --out file never holds and which could run '
            'code; nothing in it was run') from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError,
            AttributeError, IndexError, KeyError, RuntimeError,
            OSError) as error:
        detail = str(error).splitlines()[0] if str(error) else ''
        raise ResultsFileError(
            f'cannot read {path}: not a tools/test.py --out file '
            f'({type(error).__name__} {detail})'.replace(' )', ')')) from None
    layout = 'a list of samples with ' + ', '.join(required)
    if not isinstance(samples, list) or not samples:
        held = 'an empty list' if samples == [] else \
            f'a {type(samples).__name__}'
        raise ResultsFileError(
            f'{path}: not a tools/test.py --out file ({layout}; it holds '
            f'{held})')
    for index, sample in enumerate(samples):
        missing = [key for key in required if not isinstance(sample, dict)
                   or key not in sample]
        if missing:
            raise ResultsFileError(
                f'{path}: not a tools/test.py --out file ({layout}; sample '
                f'{index} has no {missing[0]})')
    return samples


def write_json(data, path: str) -> None:
    """Write ``data`` as indented JSON (metrics, tables), atomically.

    Example:
        >>> write_json({'accuracy/top1': 77.6}, 'm.json')  # doctest: +SKIP
    """
    write_atomically((json.dumps(data, indent=2) + '\n').encode(), path)


def dump_results(samples: List[dict], path: str) -> None:
    """Write ``samples`` as mmengine's ``DumpResults`` does (pickle
    protocol 2, which mmpretrain's tools read), through a temporary file
    and a rename.

    Example:
        >>> dump_results([], 'preds.pkl')  # doctest: +SKIP
    """
    write_atomically(pickle.dumps(samples, protocol=2), path)


@METRICS.register_module()
class AtomicDumpResults(DumpResults):
    """mmengine's ``DumpResults`` whose file appears whole or not at all
    (:func:`dump_results`), as our checkpoints do.

    Example:
        >>> metric = AtomicDumpResults(out_file_path='preds.pkl')
    """

    # It computes no metric, but mmengine warns at every run without a
    # prefix for their names.
    default_prefix = 'dump'

    def compute_metrics(self, results: list) -> dict:
        dump_results(results, self.out_file_path)
        print_log(f'Results has been saved to {self.out_file_path}.',
                  logger='current')
        return {}
