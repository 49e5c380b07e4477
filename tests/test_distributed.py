"""dist_*.sh and slurm_*.sh on 2 CPU processes (gloo), as CI can run them."""
import os
import os.path as osp
import pickle
import re
import subprocess
import sys

import pytest
import torch
from helpers.tools import REPO, TINY_CONFIG, call_tool, free_port

from mmpre_inception.checkpoint import load_checkpoint_file
from mmpre_inception.utils import (ConfigError, check_config_runs_here,
                                   latest_checkpoint, load_config)

pytestmark = pytest.mark.slow

RANKS_CONFIG = osp.join(REPO, 'tests', 'configs', 'tiny_shapes_ranks.py')
RANKS_DIE_ONCE_CONFIG = osp.join(REPO, 'tests', 'configs',
                                 'tiny_shapes_rank_dies_once.py')
ITERS_PER_EPOCH = 3  # 40 images, 2 ranks x batch 8: ceil(20 / 8)


def run_script(*args: str, slurm: bool = False,
               **variables: str) -> subprocess.CompletedProcess:
    """Run ``bash tools/<script> ...`` with a fresh rendezvous port and
    the environment ``variables``."""
    env = dict(os.environ, PORT=str(free_port()), PYTHON=sys.executable,
               OMP_NUM_THREADS='1',
               PYTHONPATH=osp.join(REPO, 'tests', 'helpers'), **variables)
    if slurm:
        env['PATH'] = osp.join(REPO, 'tests', 'fake_slurm') + os.pathsep + \
            env['PATH']
        env.update(GPUS='2', GPUS_PER_NODE='0', TASKS_PER_NODE='2',
                   CPUS_PER_TASK='1')
    result = subprocess.run(['bash', *args], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (result.stdout[-2000:] +
                                    result.stderr[-4000:])
    return result


def wait_for_listener(port: int, timeout_s: float = 120) -> None:
    """Until a socket of this machine listens on ``port`` (read from
    /proc: a probing connection would reach the store as a client)."""
    import time
    deadline = time.time() + timeout_s
    while True:
        for table in ('/proc/net/tcp', '/proc/net/tcp6'):
            with open(table) as f:
                for line in f.readlines()[1:]:
                    local, state = line.split()[1], line.split()[3]
                    if state == '0A' and int(local.rsplit(':', 1)[1],
                                             16) == port:
                        return
        assert time.time() < deadline, f'nothing listens on port {port}'
        time.sleep(0.1)


def start_two_nodes(*args: str, timeout_s: float = 300, **variables: str):
    """``bash tools/<script> ...`` as two nodes of one process each on this
    machine (NNODES=2, MASTER_ADDR=127.0.0.1), each in a session of its
    own as a node would be; returns both processes' (status, stdout,
    stderr, session) once they end.

    The second node starts once the first one's torchrun hosts the
    rendezvous store (as the node at MASTER_ADDR does on a cluster), so
    that the first is the store's host, and, with the lower pid, node 0
    (torch ranks the nodes by address, then pid): a test that loses rank
    1's node loses a node that does not hold the store."""
    nodes, port = [], free_port()
    for node in (0, 1):
        if node == 1:
            wait_for_listener(port)
        env = dict(os.environ, PORT=str(port), PYTHON=sys.executable,
                   OMP_NUM_THREADS='1', NNODES='2', MASTER_ADDR='127.0.0.1',
                   PYTHONPATH=osp.join(REPO, 'tests', 'helpers'),
                   **variables)
        nodes.append(subprocess.Popen(
            ['bash', *args], cwd=REPO, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True))
    results = []
    for process in nodes:
        out, err = process.communicate(timeout=timeout_s)
        results.append((process.returncode, out, err, process.pid))
    return results


def left_in_session(session: int, wait_s: float = 20) -> list:
    """The processes still running in ``session`` (a node's), after
    waiting up to ``wait_s`` for them to end."""
    import time
    deadline = time.time() + wait_s
    while True:
        listing = subprocess.run(['ps', '-e', '-o', 'sid=,pid=,args='],
                                 capture_output=True, text=True).stdout
        left = [line.split(None, 2)[1:] for line in listing.splitlines()
                if line.split()[0] == str(session)]
        if not left or time.time() > deadline:
            return left
        time.sleep(0.5)


def load_predictions(path: str) -> list:
    with open(path, 'rb') as f:
        return pickle.load(f)


def rank_parameters(work_dir: str, iteration: int) -> list:
    return [load_checkpoint_file(
        osp.join(work_dir, f'rank{rank}_iter{iteration}.pth'),
        mmap=True)['parameters']
        for rank in (0, 1)]


def assert_ranks_identical(work_dir: str, iteration: int) -> None:
    rank0, rank1 = rank_parameters(work_dir, iteration)
    assert rank0.keys() == rank1.keys()
    for name in rank0:
        assert torch.equal(rank0[name], rank1[name]), name


def test_dist_train_keeps_ranks_identical_and_restarts_a_failed_run(
        tiny_options, tmp_path):
    """Two nodes of one rank each (tools/dist_train.sh with NNODES=2) train
    two epochs with identical parameters on both ranks. The same two
    epochs on one node of two ranks, rank 1 killed (SIGKILL) at the first
    iteration of epoch 2, after epoch 1's checkpoint: torchrun starts the
    run again (MAX_RESTARTS=1), which resumes from that checkpoint by
    itself and ends where the two nodes ended, bit for bit, at each
    epoch."""
    two_nodes = str(tmp_path / 'two_nodes')
    nodes = start_two_nodes('tools/dist_train.sh', RANKS_CONFIG, '1',
                            '--work-dir', two_nodes, *tiny_options())
    assert [node[0] for node in nodes] == [0, 0], nodes[0][2][-3000:]
    assert_ranks_identical(two_nodes, 2 * ITERS_PER_EPOCH)
    # a clean distributed run: no warning of torchrun's, mmengine's or
    # torch's (thread counts, DDP's renamed buffer option)
    for _, stdout, stderr, _ in nodes:
        assert not re.findall(r'.*(?:\w+Warning\b|- WARNING -).*',
                              stdout + stderr)

    restarted = str(tmp_path / 'restarted')
    result = run_script(
        'tools/dist_train.sh', RANKS_DIE_ONCE_CONFIG, '2', '--work-dir',
        restarted, *tiny_options(), MAX_RESTARTS='1')
    log = result.stdout + result.stderr
    resumed = osp.join(restarted, 'epoch_1.pth')
    assert ('restart 1 of this run after a failure: resuming from '
            f'{resumed}') in log, log[-3000:]
    assert re.search(rf'resumed epoch: 1, iter: {ITERS_PER_EPOCH}', log)
    assert_ranks_identical(restarted, 2 * ITERS_PER_EPOCH)
    for epoch in (1, 2):
        expected = load_checkpoint_file(
            osp.join(two_nodes, f'epoch_{epoch}.pth'), mmap=True)
        got = load_checkpoint_file(
            osp.join(restarted, f'epoch_{epoch}.pth'), mmap=True)
        assert got['meta']['iter'] == epoch * ITERS_PER_EPOCH
        for key in ('state_dict', 'ema_state_dict'):
            for name, value in expected[key].items():
                torch.testing.assert_close(got[key][name], value, rtol=0,
                                           atol=0, msg=f'{key} {name}')
    # The resumed ranks trained on: their weights moved from epoch 1's.
    # EMAHook saves the raw weights as ema_state_dict ('module.' keys).
    name = 'module.backbone.Conv2d_1a_3x3.conv.weight'
    at_epoch_1 = load_checkpoint_file(resumed, mmap=True)['ema_state_dict']
    assert not torch.equal(expected['ema_state_dict'][name],
                           at_epoch_1[name])


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU path')
def test_sync_bn_on_cpus_is_a_clear_error():
    cfg = load_config(TINY_CONFIG, {'sync_bn': 'torch'})
    cfg.launcher = 'pytorch'
    with pytest.raises(ConfigError, match=r"sync_bn='torch' needs CUDA GPUs"):
        check_config_runs_here(cfg)
    cfg.launcher = 'none'  # one process: mmengine keeps plain BatchNorm
    check_config_runs_here(cfg)


@pytest.mark.parametrize('script, usage', [
    ('tools/dist_train.sh', 'CONFIG GPUS [train.py options]'),
    ('tools/dist_test.sh', 'CONFIG CHECKPOINT GPUS [test.py options]'),
])
def test_dist_scripts_without_arguments_print_their_usage(script, usage):
    result = subprocess.run(['bash', script], cwd=REPO, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == f'usage: bash {script} {usage}'


def test_dist_scripts_default_to_the_venv_python(tmp_path):
    """Without PYTHON=, the interpreter is the .venv beside tools/ (which
    `make` creates), not whatever `python` is on the PATH."""
    tools = tmp_path / 'tools'
    tools.mkdir()
    fake = tmp_path / '.venv' / 'bin' / 'python'
    fake.parent.mkdir(parents=True)
    fake.write_text('#!/bin/sh\necho "venv python $*"\n')
    fake.chmod(0o755)
    for script in ('dist_train.sh', 'dist_test.sh', 'dist_run.sh'):
        (tools / script).write_text(
            open(osp.join(REPO, 'tools', script)).read())
    env = {k: v for k, v in os.environ.items() if k != 'PYTHON'}
    result = subprocess.run(['bash', str(tools / 'dist_train.sh'), 'C', '2'],
                            capture_output=True, text=True, env=env,
                            timeout=60)
    assert result.stdout.startswith('venv python -m torch.distributed.run')


def test_a_lost_node_leaves_nothing_behind_and_ends_the_other(
        tmp_path, tiny_options):
    """The torchrun agent of the node of rank 1 is killed (SIGKILL) before
    iteration 2, as when a node is lost: its rank ends with it, not an
    orphan training on; the other node, without restarts
    (MAX_RESTARTS=0), ends well within env_cfg.dist_cfg.timeout with one
    line naming the rank it lost; no process is left on either node."""
    nodes = start_two_nodes(
        'tools/dist_train.sh',
        osp.join(REPO, 'tests', 'configs', 'tiny_shapes_node_dies.py'), '1',
        '--work-dir', str(tmp_path), *tiny_options(
            'env_cfg.dist_cfg.timeout=60', 'train_cfg.max_epochs=1'),
        timeout_s=120, MAX_RESTARTS='0')
    # The lost node is the one of rank 1, the second started (the first
    # holds the rendezvous store: see start_two_nodes).
    assert nodes[1][0] == -9, [node[0] for node in nodes]
    status, _, stderr, _ = nodes[0]
    assert status != 0
    errors = [line for line in stderr.splitlines()
              if line.startswith('error: ')]
    assert errors == [
        'error: a distributed operation lost its connection to a rank: '
        'rank 1 stopped answering in train iteration 2; the others started '
        'iteration 2'], stderr[-3000:]
    assert not osp.exists(tmp_path / 'epoch_1.pth')
    for _, _, _, session in nodes:
        assert left_in_session(session) == []


def test_sigterm_to_the_launcher_ends_every_process_and_a_resume_goes_on(
        tmp_path, tiny_options):
    """A scheduler's SIGTERM (slurm's --signal, a preemption) to
    dist_train.sh, which is the torchrun agent: it stops its workers and
    ends, with no restart, every process gone within torchrun's 30 s; each
    checkpoint written is complete, and --resume goes on from the last."""
    import signal
    import time
    options = tiny_options('train_cfg.max_epochs=50',
                           'train_dataloader.dataset.indices=16')
    env = dict(os.environ, PORT=str(free_port()), PYTHON=sys.executable)
    # From the work dir: a signal during a validation leaves mmengine's
    # folder of the ranks' results (.dist_test) in the working directory.
    launcher = subprocess.Popen(
        ['bash', osp.join(REPO, 'tools', 'dist_train.sh'), TINY_CONFIG, '2',
         '--work-dir', str(tmp_path), *options], cwd=tmp_path, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    deadline = time.time() + 240
    while not osp.exists(tmp_path / 'epoch_2.pth'):
        assert launcher.poll() is None and time.time() < deadline
        time.sleep(0.2)
    launcher.send_signal(signal.SIGTERM)
    _, stderr = launcher.communicate(timeout=60)
    assert launcher.returncode != 0
    assert 'restart 1 of this run' not in stderr  # a stop, not a failure
    assert left_in_session(launcher.pid, wait_s=5) == []
    with open(tmp_path / 'last_checkpoint') as f:
        load_checkpoint_file(f.read())  # complete: it reads
    # --resume goes on from the newest complete checkpoint, epoch_2.pth or
    # later, even where the signal fell between a checkpoint and its record
    newest = latest_checkpoint(str(tmp_path))
    epoch = load_checkpoint_file(newest, mmap=True)['meta']['epoch']
    assert epoch >= 2
    # (in one process: the resume of a distributed run is the
    # restarted run's of the test above)
    result = call_tool('tools/train.py', TINY_CONFIG, '--work-dir',
                       str(tmp_path), '--resume',
                       *tiny_options(f'train_cfg.max_epochs={epoch + 1}',
                                     'train_dataloader.dataset.indices=16'),
                       check=True)
    assert f'resumed epoch: {epoch},' in result.stdout + result.stderr
    assert osp.isfile(tmp_path / f'epoch_{epoch + 1}.pth')


def test_a_stalled_rank_ends_the_run_naming_it(tmp_path, tiny_options):
    """Rank 1 stops answering (without dying) before iteration 2: the run
    (without restarts) ends after env_cfg.dist_cfg.timeout, not torch's
    30 minutes, and the last line says which rank."""
    env = dict(os.environ, PORT=str(free_port()), PYTHON=sys.executable,
               OMP_NUM_THREADS='1', MAX_RESTARTS='0',
               PYTHONPATH=osp.join(REPO, 'tests', 'helpers'))
    result = subprocess.run(
        ['bash', 'tools/dist_train.sh',
         osp.join(REPO, 'tests', 'configs', 'tiny_shapes_rank_stalls.py'),
         '2', '--work-dir', str(tmp_path),
         *tiny_options('env_cfg.dist_cfg.timeout=10',
                       'train_cfg.max_epochs=1')],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines()
              if line.startswith('error: ')]
    assert errors == [
        'error: a distributed operation waited 10 s '
        '(env_cfg.dist_cfg.timeout) for the other ranks: rank 1 stopped '
        'answering in train iteration 2; the others started iteration 2']


def test_persistent_loader_workers_stop_at_the_end_of_the_run():
    """StopLoaderWorkersHook stops the workers when the run ends rather
    than at garbage collection, where idle workers of a distributed run on
    a few images spilled 'Bad file descriptor' tracebacks."""
    import types

    from torch.utils.data import DataLoader

    from mmpre_inception.engine import StopLoaderWorkersHook
    loader = DataLoader(list(range(2)), batch_size=1, num_workers=3,
                        persistent_workers=True)
    assert list(loader) == [torch.tensor([0]), torch.tensor([1])]
    workers = loader._iterator._workers
    assert all(worker.is_alive() for worker in workers)
    runner = types.SimpleNamespace(test_dataloader=loader,
                                   _test_dataloader=loader)
    StopLoaderWorkersHook().after_test_epoch(runner)
    assert loader._iterator is None
    assert not any(worker.is_alive() for worker in workers)
    StopLoaderWorkersHook().after_run(runner)  # nothing left to stop


def test_dist_test_ensemble_of_tta_members_averages_their_scores(
        one_epoch_run, tiny_options, tmp_path):
    """--tta and --ensemble on two slurm tasks (tools/slurm_test.sh over
    tests/fake_slurm's srun), 9 images (the sampler pads one): member 1
    averages each image and its mirror image, member 2 ten crops (a
    multi-crop tta_pipeline). The ensemble's scores are the mean of the
    members' single-process --tta scores, its metrics those of that mean;
    so a distributed test scores every sample once, with --tta and a
    multi-crop config. Each rank's 5 images keep 1 of its 5
    persistent workers busy: the idle ones stop with each member's run,
    with no traceback after the results."""
    checkpoint = osp.join(one_epoch_run, 'epoch_1.pth')
    second = osp.join(REPO, 'tests', 'configs', 'tiny_shapes_multi_crop.py')
    members = []
    for number, config in enumerate((TINY_CONFIG, second), start=1):
        member_out = str(tmp_path / f'member{number}.pkl')
        call_tool('tools/test.py', config, checkpoint, '--tta', '--work-dir',
                  str(tmp_path / f'm{number}'), '--out', member_out,
                  *tiny_options('test_dataloader.dataset.indices=9'),
                  check=True)
        members.append(load_predictions(member_out))
    out = str(tmp_path / 'ensemble.pkl')
    result = run_script('tools/slurm_test.sh', 'partition', 'job',
                        TINY_CONFIG, checkpoint, '--tta', '--ensemble',
                        second, checkpoint, '--work-dir', str(tmp_path / 'e'),
                        '--out', out,
                        *tiny_options('test_dataloader.dataset.indices=9',
                                      'test_dataloader.num_workers=5',
                                      'test_dataloader.persistent_workers='
                                      'True'), slurm=True)
    stdout = result.stdout
    assert stdout.count('Evaluated an ensemble of 2: ') == 1
    assert 'Traceback' not in result.stderr
    assert 'Bad file descriptor' not in result.stderr
    assert stdout.count('Member 2 ') == 1
    ensemble = load_predictions(out)
    assert len(ensemble) == 9
    assert not all(torch.equal(a['pred_score'], b['pred_score'])
                   for a, b in zip(*members))  # the members differ
    means = []
    for mine, one, two in zip(ensemble, *members):
        assert mine['img_path'] == one['img_path'] == two['img_path']
        mean = (one['pred_score'] + two['pred_score']) / 2
        # other batches on each rank: logits of order 10 with fp32 rounding
        # (~1e-5) move a probability by at most a quarter of that
        torch.testing.assert_close(mine['pred_score'], mean, rtol=0,
                                   atol=1e-5)
        assert mine['pred_label'].item() == mean.argmax().item()
        means.append(mean)
    # mmpretrain's top-1 of the averaged single-process scores
    from mmpretrain.evaluation import Accuracy
    expected = Accuracy.calculate(
        torch.stack(means), torch.cat([one['gt_label'] for one in members[0]]),
        topk=(1, ))[0][0].item()
    top1 = float(re.search(r'Evaluated an ensemble of 2: accuracy/top1: '
                           r'([\d.]+)', stdout).group(1))
    assert top1 == pytest.approx(expected, abs=0.005)


FAKE_SRUN = '''#!/usr/bin/env bash
# srun that records each start's restart count, then fails the starts
# before FAIL_UNTIL, or sleeps (SLEEP) to be stopped.
echo "$TORCHELASTIC_RESTART_COUNT" >> "$RECORD"
[ -n "${SLEEP:-}" ] && exec sleep "$SLEEP"
[ "$TORCHELASTIC_RESTART_COUNT" -ge "$FAIL_UNTIL" ]
'''


def slurm_train_with_fake_srun(tmp_path, **variables):
    """tools/slurm_train.sh over an srun that records and fails as told;
    returns the running script and the record file."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / 'srun').write_text(FAKE_SRUN)
    (bin_dir / 'srun').chmod(0o755)
    record = tmp_path / 'starts'
    env = {**os.environ, 'RECORD': str(record), 'FAIL_UNTIL': '0',
           'PATH': f'{bin_dir}{os.pathsep}{os.environ["PATH"]}',
           **variables}
    process = subprocess.Popen(
        ['bash', 'tools/slurm_train.sh', 'partition', 'job', 'C.py', 'W'],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True)
    return process, record


@pytest.mark.parametrize('restarts, fail_until, starts, status', [
    ('3', '1', ['0', '1'], 0),  # one failure, then done
    (None, '9', ['0', '1', '2', '3'], 1),  # the default: 3 restarts
    ('0', '1', ['0'], 1),  # today's behaviour: the first failure ends it
])
def test_slurm_train_starts_a_failed_run_again(tmp_path, restarts,
                                               fail_until, starts, status):
    """Each start counts itself in TORCHELASTIC_RESTART_COUNT, as
    torchrun's do, so that train.py resumes (restart_resumes)."""
    variables = {'FAIL_UNTIL': fail_until}
    if restarts is not None:
        variables['MAX_RESTARTS'] = restarts
    process, record = slurm_train_with_fake_srun(tmp_path, **variables)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == status
    assert record.read_text().split() == starts
    assert stderr.count('slurm_train.sh: the run failed') == \
        len(starts) - 1


def test_slurm_train_ends_on_sigterm_without_a_restart(tmp_path):
    import signal
    import time
    process, record = slurm_train_with_fake_srun(tmp_path, SLEEP='60')
    deadline = time.time() + 30
    while not record.exists():
        assert time.time() < deadline
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert process.returncode == 143
    assert record.read_text().split() == ['0']
    assert left_in_session(process.pid, wait_s=5) == []
