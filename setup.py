"""Install mmpre_inception: ``pip install .``, or ``pip install -e .`` for
development (what ``make install`` runs, with the tested versions of
requirements/constraints.txt).

The requirements are ranges (requirements/runtime.txt): an environment
that already holds torch, torchvision, mmengine, mmpretrain and timm in
range keeps them. mmcv 2.x (full or mmcv-lite) is not among them, as in
OpenMMLab's own packages, since both install the ``mmcv`` module
(requirements/mminstall.txt).

A wheel carries ``tools/`` and ``model-index.yml`` in ``mmpre_inception/.mim/``
(OpenMMLab's layout), so that ``mim train|test|search mmpre_inception`` work
after ``pip install``.
"""
import os
import os.path as osp
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = osp.dirname(osp.abspath(__file__))

# What mim looks for in <package>/.mim/: the path there -> the path in this
# checkout. The configs need no entry: they live in the package already
# (mim finds a config by searching the package), and the metafile sits where
# model-index.yml's `Import:` expects it.
MIM_FILES = {
    'tools': 'tools',
    'model-index.yml': 'model-index.yml',
    'configs/metafile.yml': 'mmpre_inception/configs/metafile.yml',
}


def make_mim_folder(package_dir: str) -> None:
    """Fill ``<package_dir>/.mim`` with copies of MIM_FILES."""
    mim_dir = osp.join(package_dir, '.mim')
    for target, source in MIM_FILES.items():
        source = osp.join(HERE, source)
        target = osp.join(mim_dir, target)
        os.makedirs(osp.dirname(target), exist_ok=True)
        if osp.isdir(source):
            shutil.copytree(source, target, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns('__pycache__'))
        else:
            shutil.copy(source, target)


class BuildWithMimFolder(build_py):
    """build_py that also writes ``.mim/`` into the built package."""

    def run(self):
        super().run()
        if not getattr(self, 'editable_mode', False):
            make_mim_folder(osp.join(self.build_lib, 'mmpre_inception'))


def read_requirements(name: str) -> list:
    """Requirement lines of ``requirements/<name>``, comments dropped."""
    with open(osp.join(HERE, 'requirements', name)) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line and not line.startswith('-')]


def read_version() -> str:
    namespace = {}
    with open(osp.join(HERE, 'mmpre_inception', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


setup(
    name='mmpre_inception',
    version=read_version(),
    description='Inception V3 for mmengine, mmcv and mmpretrain',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    python_requires='>=3.9',
    packages=find_packages(
        exclude=('tests', 'tests.*', 'configs', 'tools', 'benchmarks',
                 'benchmarks.*')),
    # The configs ship inside the package so that downstream configs can
    # inherit them with `read_base()` (docs/training.md); `configs/` in the
    # repository root is a link to them.
    package_data={
        'mmpre_inception': ['configs/*.py', 'configs/*.yml', 'configs/*/*.py',
                            'configs/*/*/*.py']
    },
    cmdclass={'build_py': BuildWithMimFolder},
    install_requires=read_requirements('runtime.txt'),
    extras_require={'tests': read_requirements('tests.txt')},
    zip_safe=False,
)
