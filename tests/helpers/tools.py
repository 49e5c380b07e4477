"""Where the repository is, and how tests run its command-line tools as a
user would."""
import contextlib
import importlib.util
import io
import os
import os.path as osp
import subprocess
import sys

import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SAMPLE_DIR = osp.join(REPO, '..', 'shared', 'data', 'imagenet-sample')
TINY_CONFIG = osp.join(REPO, 'tests', 'configs', 'tiny_shapes.py')


def run_tool(*args: str, cwd: str = REPO, check: bool = True,
             timeout: int = 600) -> subprocess.CompletedProcess:
    """Run ``python tools/<args>`` in a subprocess, as a user would."""
    env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='2')
    result = subprocess.run([sys.executable, *args], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(
            f'{args} exited {result.returncode}\n--- stdout\n'
            f'{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}')
    return result


_TOOL_MODULES: dict = {}


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
    path = osp.join(cwd, script)
    module = _TOOL_MODULES.get(path)
    if module is None:
        name = 'tool_' + script.replace('/', '_').replace('.', '_')
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _TOOL_MODULES[path] = module
    stdout, stderr = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    threads = torch.get_num_threads()  # benchmark.py --threads sets it
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(stdout), \
                contextlib.redirect_stderr(stderr):
            try:
                status = module.main(list(argv))
            except SystemExit as error:  # argparse's usage errors
                status = error.code
    finally:
        os.chdir(previous)
        torch.set_num_threads(threads)
    result = subprocess.CompletedProcess(args, status or 0, stdout.getvalue(),
                                         stderr.getvalue())
    if check and result.returncode != 0:
        raise AssertionError(
            f'{args} returned {result.returncode}\n--- stdout\n'
            f'{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}')
    return result


def call_script(path: str, *argv: str) -> subprocess.CompletedProcess:
    """Run a script that reads ``sys.argv`` (mmpretrain's tools, which
    have no ``main(argv)``) as ``__main__`` in this process, as
    :func:`call_tool` does for ours; raises if it exits non-zero."""
    import runpy
    stdout, stderr = io.StringIO(), io.StringIO()
    saved_argv, threads = sys.argv, torch.get_num_threads()
    sys.argv = [path, *argv]
    status = 0
    try:
        with contextlib.redirect_stdout(stdout), \
                contextlib.redirect_stderr(stderr):
            try:
                runpy.run_path(path, run_name='__main__')
            except SystemExit as error:
                status = error.code or 0
    finally:
        sys.argv = saved_argv
        torch.set_num_threads(threads)
    result = subprocess.CompletedProcess([path, *argv], status,
                                         stdout.getvalue(), stderr.getvalue())
    if status:
        raise AssertionError(f'{path} exited {status}\n--- stderr\n'
                             f'{result.stderr[-4000:]}')
    return result
