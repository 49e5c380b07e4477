"""Where the repository is, and how tests run its command-line tools as a
user would."""
import contextlib
import gc
import glob
import importlib.util
import io
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import sysconfig

import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SAMPLE_DIR = osp.join(REPO, '..', 'shared', 'data', 'imagenet-sample')
TINY_CONFIG = osp.join(REPO, 'tests', 'configs', 'tiny_shapes.py')
# The shipped configs the tests run most, named once.
MAIN_CONFIG = osp.join(REPO, 'configs', 'inception_v3_8xb32_in1k.py')
MIXUP_CONFIG = osp.join(REPO, 'configs',
                        'inception_v3_8xb64_mixup_randaug_cos_in1k.py')
TPU_CONFIG = osp.join(REPO, 'configs', 'inception_v3_8xb128_tpu_in1k.py')


def png_size(path) -> tuple:
    """A picture's (width, height), after checking it is a PNG."""
    from PIL import Image
    with Image.open(path) as image:
        assert image.format == 'PNG'
        return image.size


def free_port() -> int:
    """A TCP port nothing listens on now, for a distributed run's
    rendezvous (pytest-xdist runs tests side by side)."""
    import socket
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def same_threads() -> dict:
    """The environment entry that gives a process a test starts this
    process's torch thread count, so a run there adds in the order of a run
    here (make test's workers have one thread, conftest.py)."""
    return {'OMP_NUM_THREADS': str(torch.get_num_threads())}


def run_tool(*args: str, cwd: str = REPO, check: bool = True,
             timeout: int = 600) -> subprocess.CompletedProcess:
    """Run ``python tools/<args>`` in a subprocess, as a user would."""
    env = dict(os.environ, PYTHONUNBUFFERED='1', **same_threads())
    result = subprocess.run([sys.executable, *args], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(
            f'{args} exited {result.returncode}\n--- stdout\n'
            f'{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}')
    return result


def run_outside(*args, cwd, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run a command as in another environment (no PYTHONPATH of this one),
    raising with its output if it fails."""
    env = dict(os.environ, PYTHONUNBUFFERED='1', **same_threads())
    env.pop('PYTHONPATH', None)
    result = subprocess.run([str(arg) for arg in args], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, \
        f'{args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}'
    return result


def build_wheel(where) -> str:
    """Our wheel, built from this checkout into ``where``."""
    run_outside(sys.executable, '-m', 'pip', 'wheel', '--quiet', '--no-deps',
                '--no-build-isolation', '--wheel-dir', where, REPO, cwd=where)
    wheel, = glob.glob(osp.join(str(where), 'mmpre_inception-*.whl'))
    return wheel


def venv_with_this_stack(path) -> tuple:
    """A fresh virtual environment at ``path`` that sees this one's
    packages (torch, the OpenMMLab stack, pip) through a .pth file, so
    that nothing is downloaded again: (its python, its site-packages)."""
    run_outside(sys.executable, '-m', 'venv', '--without-pip', path,
                cwd=osp.dirname(str(path)))
    python = osp.join(str(path), 'bin', 'python')
    site = run_outside(python, '-c', 'import sysconfig; print(sysconfig.'
                       'get_paths()["purelib"])', cwd=str(path)).stdout.strip()
    with open(osp.join(site, 'stack_from_the_test_env.pth'), 'w') as f:
        f.write(sysconfig.get_paths()['purelib'] + '\n')
    return python, site


_TOOL_MODULES: dict = {}


def _run_in_process(args: tuple, run, cwd: str,
                    check: bool) -> subprocess.CompletedProcess:
    """``run()`` with stdout and stderr captured, in ``cwd``; its return
    value or ``SystemExit`` code is the status. The working directory,
    ``sys.argv`` and torch's thread count (benchmark.py --threads sets
    it) are restored after."""
    stdout, stderr = io.StringIO(), io.StringIO()
    previous, argv, threads = os.getcwd(), sys.argv, torch.get_num_threads()
    os.chdir(cwd)
    # mmengine's BaseDataset calls gc.collect() on every build, which in a
    # test worker walks the million objects the suite has made so far (0.3 s
    # a time; 51 s of the workers' 445 s of CPU time in a profiled run):
    # keep those out of the tool's collections (the tools' own freeze,
    # apis.process_group, starts later), and give them back after.
    gc.freeze()
    try:
        with contextlib.redirect_stdout(stdout), \
                contextlib.redirect_stderr(stderr):
            try:
                status = run()
            except SystemExit as error:  # argparse's usage errors, sys.exit
                status = error.code
    finally:
        gc.unfreeze()
        os.chdir(previous)
        sys.argv = argv
        torch.set_num_threads(threads)
    result = subprocess.CompletedProcess(args, status or 0, stdout.getvalue(),
                                         stderr.getvalue())
    if check and result.returncode != 0:
        raise AssertionError(
            f'{args} returned {result.returncode}\n--- stdout\n'
            f'{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}')
    return result


def one_line_error(result: subprocess.CompletedProcess, start: str = '',
                   status: int = 2, alone: bool = False) -> str:
    """Check that a command ended on bad input the one way every tool
    must: exit ``status`` (2 for what was typed, 1 for what a run met:
    ``mmpre_inception.errors.EXIT_STATUS``), no traceback, and a last line
    ``error: <start>...`` (argparse's usage errors put the program's name
    first: ``train.py: error: ...``); ``alone``: nothing else on stderr.

    Returns:
        str: That line, for the test to compare further.
    """
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    assert result.returncode == status, (result.returncode,
                                         result.stderr[-2000:])
    lines = result.stderr.strip().splitlines()
    assert lines and re.match(rf'(\S+: )?error: {re.escape(start)}',
                              lines[-1]), result.stderr[-2000:]
    assert not alone or len(lines) == 1, result.stderr[-2000:]
    return lines[-1]


def call_tool(*args: str, cwd: str = REPO,
              check: bool = False) -> subprocess.CompletedProcess:
    """Run ``main(argv)`` of the tool ``args[0]`` in this process.

    The code path is the command line's after argument parsing, without the
    7 to 9 seconds a new interpreter spends importing torch, mmcv and
    mmpretrain on the 2-core machine. :func:`run_tool` runs the real
    command line, for what only a new process shows (start-up, signals,
    the interpreter's exit). ``check`` raises on a non-zero status, as
    :func:`run_tool` does.
    """
    script, *argv = args
    module = tool_module(osp.join(cwd, script))
    return _run_in_process(args, lambda: module.main(list(argv)), cwd, check)


def tool_module(script: str):
    """A tool (path relative to the repository, or absolute) imported as a
    module, once per test session, so tests can call its functions."""
    path = osp.join(REPO, script)
    module = _TOOL_MODULES.get(path)
    if module is None:
        name = 'tool_' + osp.relpath(path, REPO).replace('/', '_').replace(
            '.', '_')
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _TOOL_MODULES[path] = module
    return module


def copy_work_dir(source: str, destination) -> None:
    """``shutil.copytree`` of a run's work dir, its checkpoints hard-linked
    rather than copied: writing 390 MB is seconds of kernel time on the
    test machine, and no run writes into a checkpoint that exists (saves
    go to a temporary file renamed over the name), so the source's stay
    as they were."""

    def link_checkpoints(src: str, dst: str) -> None:
        if src.endswith('.pth'):
            os.link(src, dst)
        else:
            shutil.copy2(src, dst)

    shutil.copytree(source, destination, copy_function=link_checkpoints)


def synthetic():
    """``tools/dataset_converters/make_synthetic_imagenet.py`` as a module:
    the shapes data set (``SHAPES``, ``render_image``,
    ``make_synthetic_imagenet``) that the tests train and test on."""
    return tool_module('tools/dataset_converters/make_synthetic_imagenet.py')


def call_script(path: str, *argv: str) -> subprocess.CompletedProcess:
    """Run a script that reads ``sys.argv`` (mmpretrain's tools, which
    have no ``main(argv)``) as ``__main__`` in this process, as
    :func:`call_tool` does for ours; raises if it exits non-zero."""
    import runpy

    def run():
        sys.argv = [path, *argv]
        runpy.run_path(path, run_name='__main__')

    return _run_in_process((path, *argv), run, REPO, check=True)
