"""The allow-list for Runner checkpoints opens no way to run code, and
holds only where it is applied."""
import os
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

from mmpre_inception.checkpoint import mmengine_checkpoint_globals
from mmpre_inception.engine import MMEngineSafeGlobalsHook


@pytest.fixture(autouse=True)
def allow_list():
    """As our reader and MMEngineSafeGlobalsHook apply it."""
    with torch.serialization.safe_globals(mmengine_checkpoint_globals()):
        yield


class _RunsCommand:
    """Unpickling this runs a shell command: a classic payload."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


class _ReachesThroughGetattr:
    """Uses the allow-listed name ``builtins.getattr`` to reach beyond the
    HistoryBuffer statistics methods."""

    def __reduce__(self):
        return getattr, (HistoryBuffer, '__init__')


def test_runner_state_round_trips_under_weights_only(tmp_path):
    buffer = HistoryBuffer()
    buffer.update(1.5)
    buffer.update(np.float64(2.5))
    path = tmp_path / 'hub.pth'
    torch.save({'log_scalars': {'loss': buffer},
                'statistics': {'mean': HistoryBuffer.mean},
                'seed': np.int64(3), 'array': np.arange(3.0)}, path)
    loaded = torch.load(path, weights_only=True)
    assert loaded['log_scalars']['loss'].mean() == pytest.approx(2.0)
    assert loaded['statistics']['mean'] is HistoryBuffer.mean
    assert loaded['seed'] == 3
    np.testing.assert_array_equal(loaded['array'], np.arange(3.0))


def test_code_execution_payload_is_refused(tmp_path):
    marker = tmp_path / 'payload_ran'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'x': _RunsCommand(marker)}, path)
    with pytest.raises(pickle.UnpicklingError, match='system'):
        torch.load(path, weights_only=True)
    assert not marker.exists()


def test_getattr_reaches_only_statistics_methods(tmp_path):
    path = tmp_path / 'getattr.pth'
    torch.save({'x': _ReachesThroughGetattr()}, path)
    with pytest.raises(Exception, match='only HistoryBuffer statistics'):
        torch.load(path, weights_only=True)


def test_hook_applies_the_allow_list_for_the_run_only():
    with torch.serialization.safe_globals([]):
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals([np.int64])
        hook = MMEngineSafeGlobalsHook()
        hook.before_run(runner=None)
        assert HistoryBuffer in torch.serialization.get_safe_globals()
        hook.after_run(runner=None)
        assert torch.serialization.get_safe_globals() == [np.int64]
