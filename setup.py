"""Install mmpre_inception: ``pip install -e .`` (``make`` does it for you).

Install torch first (requirements/runtime.txt pins a build that works with
torchvision), then the OpenMMLab stack (requirements/mminstall.txt).
"""
import os.path as osp

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


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
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    # The configs ship inside the package so that downstream configs can
    # inherit them with `read_base()` (docs/training.md); `configs/` in the
    # repository root is a link to them.
    package_data={
        'mmpre_inception': ['configs/*.py', 'configs/*.yml', 'configs/*/*.py',
                            'configs/*/*/*.py']
    },
    install_requires=read_requirements('runtime.txt') +
    read_requirements('mminstall.txt'),
    extras_require={'tests': read_requirements('tests.txt')},
    zip_safe=False,
)
