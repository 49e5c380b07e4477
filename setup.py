"""Install mmpre_inception: ``pip install .``, or ``make`` for development.

Install torch first (requirements/runtime.txt pins a build that works with
torchvision), then the OpenMMLab stack (requirements/mminstall.txt).

A wheel carries ``tools/`` and ``model-index.yml`` in ``mmpre_inception/.mim/``
(OpenMMLab's layout), so that ``mim train|test|search mmpre_inception`` work
after ``pip install``. ``python setup.py develop_in_place`` (what ``make``
runs) installs this checkout for development; see that command for why it
is not ``pip install -e .``.
"""
import os
import os.path as osp
import shutil
import sysconfig

from setuptools import Command, find_packages, setup
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


def make_mim_folder(package_dir: str, link: bool) -> None:
    """Fill ``<package_dir>/.mim`` with copies of MIM_FILES, or links."""
    mim_dir = osp.join(package_dir, '.mim')
    for target, source in MIM_FILES.items():
        source = osp.join(HERE, source)
        target = osp.join(mim_dir, target)
        os.makedirs(osp.dirname(target), exist_ok=True)
        if osp.lexists(target):
            if osp.isdir(target) and not osp.islink(target):
                shutil.rmtree(target)
            else:
                os.remove(target)
        if link:
            os.symlink(osp.relpath(source, osp.dirname(target)), target)
        elif osp.isdir(source):
            shutil.copytree(source, target,
                            ignore=shutil.ignore_patterns('__pycache__'))
        else:
            shutil.copy(source, target)


class BuildWithMimFolder(build_py):
    """build_py that also writes ``.mim/`` into the built package."""

    def run(self):
        super().run()
        if not getattr(self, 'editable_mode', False):
            make_mim_folder(osp.join(self.build_lib, 'mmpre_inception'),
                            link=False)


class DevelopInPlace(Command):
    """Install this checkout in place, as ``setup.py develop`` once did.

    A PEP 660 editable install (``pip install -e .``) records the package
    in site-packages while its files stay here. mmengine's ``read_base()``
    and mim locate a package's files from where its metadata is
    (``get_installed_path``), so with such an install they look in
    site-packages and find nothing. Here the metadata
    (``mmpre_inception.egg-info``) and the files are both in this checkout,
    which a ``.pth`` file puts on ``sys.path``; ``.mim/`` holds links.
    Dependencies are not installed: ``make`` installs the requirements
    first. To uninstall, delete ``mmpre_inception-checkout.pth`` from
    site-packages.
    """
    description = 'install this checkout for development (what make runs)'
    user_options = []

    def initialize_options(self):
        pass

    def finalize_options(self):
        pass

    def run(self):
        self.run_command('egg_info')
        make_mim_folder(osp.join(HERE, 'mmpre_inception'), link=True)
        pth = osp.join(sysconfig.get_paths()['purelib'],
                       'mmpre_inception-checkout.pth')
        with open(pth, 'w') as f:
            f.write(HERE + '\n')
        print(f'mmpre_inception: {HERE} is on sys.path through {pth}')


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
    cmdclass={
        'build_py': BuildWithMimFolder,
        'develop_in_place': DevelopInPlace
    },
    install_requires=read_requirements('runtime.txt') +
    read_requirements('mminstall.txt'),
    extras_require={'tests': read_requirements('tests.txt')},
    zip_safe=False,
)
