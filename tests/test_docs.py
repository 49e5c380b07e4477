"""`make docs` builds the site without a single Sphinx warning."""
import subprocess
import sys

import pytest
from helpers.tools import REPO


@pytest.mark.slow
def test_docs_build_without_warnings(tmp_path):
    pytest.importorskip('sphinx')
    pytest.importorskip('myst_parser')
    result = subprocess.run(
        [sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-b', 'html',
         '-q', 'docs', str(tmp_path / 'html')],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    api = (tmp_path / 'html' / 'api.html').read_text()
    for documented in ('InceptionV3', 'AutocastOptimWrapper',
                       'ImagePredictor',
                       'check_annotation_file', 'check_state_dict_fits',
                       'register_all_modules'):
        assert documented in api, documented
