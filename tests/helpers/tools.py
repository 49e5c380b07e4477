"""Where the repository is, and how tests run its command-line tools as a
user would."""
import os
import os.path as osp
import subprocess
import sys

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
