"""Installing the package leaves the user's stack as it is: the wheel's
requirements are ranges, and pip, asked to install it beside a stack in
range, installs the package alone."""
import json
import zipfile

import pytest
from helpers.tools import build_wheel, venv_with_this_stack
from helpers.tools import run_outside as run

pytestmark = pytest.mark.slow

STACK = ('torch', 'torchvision', 'mmengine', 'mmcv', 'mmcv-lite',
         'mmpretrain', 'timm')


@pytest.fixture(scope='module')
def wheel(tmp_path_factory) -> str:
    return build_wheel(tmp_path_factory.mktemp('wheel'))


def requirements(wheel: str) -> dict:
    with zipfile.ZipFile(wheel) as archive:
        metadata, = [name for name in archive.namelist()
                     if name.endswith('.dist-info/METADATA')]
        lines = archive.read(metadata).decode().splitlines()
    found = {}
    for line in lines:
        if line.startswith('Requires-Dist: ') and 'extra ==' not in line:
            requirement = line[len('Requires-Dist: '):]
            name = requirement.split(';')[0].split('<')[0].split(
                '>')[0].split('=')[0].split('!')[0].strip().lower()
            found[name] = requirement
    return found


def test_the_wheel_requires_ranges_of_the_stack(wheel):
    required = requirements(wheel)
    assert {'torch', 'torchvision', 'mmengine', 'mmpretrain',
            'timm'} <= set(required)
    assert 'mmcv' not in required and 'mmcv-lite' not in required
    for name in STACK:
        if name in required:
            assert '==' not in required[name], required[name]
            assert '>=' in required[name], required[name]


def test_installing_beside_a_stack_in_range_changes_none_of_it(
        wheel, tmp_path):
    """A fresh environment that holds this test environment's stack (a
    .pth file): ``pip install --dry-run`` of the wheel would install the
    package and nothing else."""
    python, _ = venv_with_this_stack(tmp_path / 'venv')
    report = tmp_path / 'report.json'
    run(python, '-m', 'pip', 'install', '--dry-run', '--quiet', '--report',
        report, wheel, cwd=tmp_path)
    installs = [item['metadata']['name'].lower()
                for item in json.loads(report.read_text())['install']]
    assert installs == ['mmpre-inception'] or installs == ['mmpre_inception']
