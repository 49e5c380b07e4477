"""Importing mmpre_inception, or registering its modules, changes nothing
else in the process: torch's unpickler allow-list, mmengine's file backends
and the warnings filters stay as they were, and the garbage collector on."""
import gc
import subprocess
import sys

import pytest

from helpers.tools import REPO

SNAPSHOT = '''
import warnings
import torch
from mmengine.fileio.backends import registry_utils


def snapshot():
    return dict(
        safe_globals=list(torch.serialization.get_safe_globals()),
        backends=dict(registry_utils.backends),
        prefixes=dict(registry_utils.prefix_to_backends),
        filters=list(warnings.filters))
'''


def run_python(code: str) -> None:
    result = subprocess.run([sys.executable, '-c', SNAPSHOT + code],
                            cwd=REPO, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


def test_import_changes_nothing_in_the_process():
    run_python('''
before = snapshot()
import mmpre_inception
after = snapshot()
for key in before:
    assert after[key] == before[key], key

# The names of apis import torch's, mmengine's and mmpretrain's modules
# without a full collection walking them (a tool's start), and leave the
# collector on.
import gc
full_collections = []
gc.callbacks.append(lambda phase, info: full_collections.append(info)
                    if phase == 'start' and info['generation'] == 2 else None)
from mmpre_inception import apis
apis.train, apis.ImagePredictor
assert full_collections == [], full_collections
assert gc.isenabled()
''')


def test_a_failed_import_of_an_apis_name_leaves_the_collector_on(
        monkeypatch):
    from mmpre_inception import apis
    monkeypatch.setitem(apis._NAMES, 'missing', '.no_such_module')
    with pytest.raises(ModuleNotFoundError):
        apis.missing
    assert gc.isenabled()


def test_registering_adds_only_our_named_backend():
    # mmpretrain's own registration first, so that what changes after is
    # ours alone.
    run_python('''
from mmpretrain.utils import register_all_modules
register_all_modules(init_default_scope=False)
before = snapshot()
from mmpre_inception import register_all_modules
register_all_modules()
after = snapshot()
assert after['safe_globals'] == before['safe_globals']
assert after['filters'] == before['filters']
assert after['prefixes'] == before['prefixes']
added = set(after['backends']) - set(before['backends'])
assert added == {'atomic_local'}, added
assert all(after['backends'][name] is backend
           for name, backend in before['backends'].items())

from mmengine.registry import DefaultScope
from mmpre_inception.registry import HOOKS, MODELS
assert DefaultScope.get_current_instance().scope_name == 'mmpre_inception'
assert MODELS.get('InceptionClassifier') is not None
assert HOOKS.get('AtomicCheckpointHook') is not None
''')
