"""Train, resume and evaluate through the command-line tools."""
import contextlib
import os
import os.path as osp
import pickle
import re

import pytest
import torch
from helpers.tools import (TINY_CONFIG, call_tool, copy_work_dir,
                           one_line_error, run_tool)

from mmpre_inception.checkpoint import load_checkpoint_file

pytestmark = pytest.mark.slow

ITERS_PER_EPOCH = 5  # 40 training images, batch 8


def test_train_writes_checkpoint_and_logs(one_epoch_run):
    checkpoint = osp.join(one_epoch_run, 'epoch_1.pth')
    with open(osp.join(one_epoch_run, 'last_checkpoint')) as f:
        assert f.read().strip() == checkpoint
    # Runner checkpoints load under weights_only=True (torch's default).
    state = load_checkpoint_file(checkpoint, mmap=True)
    assert state['meta']['epoch'] == 1
    assert state['meta']['iter'] == ITERS_PER_EPOCH
    assert 'head.AuxLogits.fc.weight' in state['state_dict']


def test_resume_continues_from_the_last_checkpoint(one_epoch_run,
                                                   tiny_options, tmp_path):
    # A copy: the session's run stays one epoch for the tests that read it.
    work_dir = str(tmp_path / 'work')
    copy_work_dir(one_epoch_run, work_dir)
    result = call_tool('tools/train.py', TINY_CONFIG, '--work-dir',
                       work_dir, '--resume', *tiny_options(), check=True)
    log = result.stdout + result.stderr
    assert re.search(r'resumed epoch: 1, iter: 5', log), log[-3000:]
    assert 'Epoch(train) [1]' not in log  # epoch 1 was not trained again
    state = load_checkpoint_file(osp.join(work_dir, 'epoch_2.pth'), mmap=True)
    assert state['meta']['epoch'] == 2
    assert state['meta']['iter'] == 2 * ITERS_PER_EPOCH
    # AdamW's step count went on from the restored optimizer state.
    steps = {float(s['step']) for s in state['optimizer']['state'].values()}
    assert steps == {2.0 * ITERS_PER_EPOCH}
    # The weight average was restored too, not restarted from the weights.
    assert 'ema_state_dict' in state


@pytest.mark.parametrize('restart_resumes', [True, False])
def test_a_restart_resumes_from_the_newest_checkpoint(
        one_epoch_run, tiny_options, tmp_path, monkeypatch, restart_resumes):
    """A start after a failure (TORCHELASTIC_RESTART_COUNT, as torchrun
    and slurm_train.sh set it) with the command line of the first start,
    which resumed from a checkpoint elsewhere: with restart_resumes it
    resumes from the work dir's newest checkpoint instead (the first start
    got that far), without it from the checkpoint typed."""
    work_dir = str(tmp_path / 'work')
    copy_work_dir(one_epoch_run, work_dir)
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work_dir, 'epoch_1.pth'))  # as the copy's own
    typed = str(tmp_path / 'typed.pth')
    os.link(osp.join(work_dir, 'epoch_1.pth'), typed)
    monkeypatch.setenv('TORCHELASTIC_RESTART_COUNT', '1')
    result = call_tool('tools/train.py', TINY_CONFIG, '--work-dir',
                       work_dir, '--resume', typed, *tiny_options(
                           'train_dataloader.dataset.indices=8',
                           f'restart_resumes={restart_resumes}'),
                       check=True)
    expected = osp.join(work_dir, 'epoch_1.pth') if restart_resumes \
        else typed
    said = re.findall(r'restart 1 of this run after a failure: (.*\.pth)',
                      result.stdout + result.stderr)
    assert said and set(said) == {f'resuming from {expected}'}, said


def test_test_tool_scores_the_trained_checkpoint(evaluated):
    result, out, _ = evaluated
    with open(out, 'rb') as f:
        predictions = pickle.load(f)
    assert len(predictions) == 20
    correct = sum(int(p['pred_label'][0] == p['gt_label'][0])
                  for p in predictions)
    # mmpretrain's Accuracy (thrs=0.0) counts a top-5 hit only where the
    # true class also has a score above 0; a barely trained net saturates.
    top5 = sum(int(p['gt_label'][0] in p['pred_score'].topk(5).indices
                   and p['pred_score'][p['gt_label'][0]] > 0)
               for p in predictions)
    printed = re.search(r'accuracy/top1: ([\d.]+)  accuracy/top5: ([\d.]+)',
                        result.stdout)
    assert printed, result.stdout[-2000:]
    assert float(printed.group(1)) == pytest.approx(100 * correct / 20)
    assert float(printed.group(2)) == pytest.approx(100 * top5 / 20)


def test_metrics_json(one_epoch_run, tiny_options, tmp_path):
    out = tmp_path / 'metrics.json'
    call_tool('tools/test.py', TINY_CONFIG,
              osp.join(one_epoch_run, 'epoch_1.pth'), '--work-dir',
              str(tmp_path), '--out-item', 'metrics', '--out', str(out),
              *tiny_options(), check=True)
    import json
    metrics = json.loads(out.read_text())
    assert set(metrics) == {'accuracy/top1', 'accuracy/top5'}


def test_missing_config_exits_with_one_line(tmp_path):
    for tool in ('tools/train.py', 'tools/test.py'):
        args = [tool, 'missing.py'] + (['x.pth'] if 'test' in tool else [])
        result = call_tool(*args)
        assert result.returncode == 2
        assert result.stderr.strip() == 'error: config file not found: ' \
            'missing.py'


def test_missing_checkpoint_exits_with_one_line(tiny_options):
    result = call_tool('tools/test.py', TINY_CONFIG, 'nowhere.pth',
                       *tiny_options())
    assert result.returncode == 2
    assert result.stderr.strip() == \
        'error: checkpoint file not found: nowhere.pth'


def load_predictions(path: str) -> list:
    with open(path, 'rb') as f:
        return pickle.load(f)


def test_amp_and_channels_last_keep_predictions(one_epoch_run, tiny_options,
                                                tmp_path):
    """The defaults (channels-last, folded BatchNorm) give the plain NCHW
    predictions; --amp scores in bfloat16 on this CPU (test_precision.py
    compares logits of a non-degenerate model)."""
    checkpoint = osp.join(one_epoch_run, 'epoch_1.pth')
    outputs = {}
    for name, flags in [('fp32', ['--nchw', '--no-fold-bn']), ('nhwc', []),
                        ('amp', ['--amp'])]:
        outputs[name] = str(tmp_path / f'{name}.pkl')
        call_tool('tools/test.py', TINY_CONFIG, checkpoint, '--work-dir',
                  str(tmp_path / name), '--out', outputs[name], *flags,
                  *tiny_options(), check=True)
    reference = load_predictions(outputs['fp32'])
    scores = torch.stack([p['pred_score'] for p in reference])
    nhwc = torch.stack(
        [p['pred_score'] for p in load_predictions(outputs['nhwc'])])
    amp = torch.stack(
        [p['pred_score'] for p in load_predictions(outputs['amp'])])
    torch.testing.assert_close(nhwc, scores, rtol=1e-4, atol=1e-5)
    assert amp.dtype == torch.bfloat16  # autocast really ran
    # After one epoch the softmax is saturated, so bfloat16 can swap a
    # near tie; test_precision.py bounds the logits of a sound model.
    agree = (amp.argmax(1) == scores.argmax(1)).float().mean()
    assert agree >= 0.9


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU path')
def test_amp_training_on_cpu_uses_bfloat16(tiny_options, tmp_path):
    result = call_tool('tools/train.py', TINY_CONFIG, '--amp', '--work-dir',
                       str(tmp_path),
                       *tiny_options('train_cfg.max_epochs=1'), check=True)
    # The config the run used is in the log file (the console leaves the
    # listing out).
    import glob
    (log_file, ) = glob.glob(osp.join(tmp_path, '*', '*.log'))
    with open(log_file) as f:
        assert 'AutocastOptimWrapper' in f.read()
    assert result.returncode == 0
    state = load_checkpoint_file(osp.join(tmp_path, 'epoch_1.pth'), mmap=True)
    assert all(torch.isfinite(v).all() for v in state['state_dict'].values()
               if v.is_floating_point())


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU path')
def test_float16_amp_without_gpu_exits_with_one_line(tiny_options):
    result = call_tool('tools/train.py', TINY_CONFIG, '--amp', '--amp-dtype',
                       'float16', *tiny_options())
    assert result.returncode == 2
    assert result.stderr.strip() == (
        'error: --amp-dtype float16 needs a CUDA GPU; on a CPU use '
        'bfloat16 (the default there)')


@pytest.mark.parametrize('out, extra, reason', [
    ('m.json', [], 'predictions are written as a pickle; give a .pkl path, '
     'or add --out-item metrics'),
    ('a_file/preds.pkl', [], 'cannot write in {tmp}/a_file; choose a '
     'writable folder'),
    ('', ['--out-item', 'metrics'], 'is a directory; give a file path'),
])
def test_out_path_is_checked_before_the_run(tiny_options, tmp_path, out,
                                            extra, reason):
    (tmp_path / 'a_file').write_text('x')
    checkpoint = tmp_path / 'never_read.pth'
    checkpoint.write_bytes(b'x')
    path = str(tmp_path / out) if out else str(tmp_path)
    result = call_tool('tools/test.py', TINY_CONFIG, str(checkpoint),
                       '--out', path, *extra, *tiny_options())
    line = one_line_error(result, status=2, alone=True)
    assert line.startswith(f'error: --out {path}: '
                           f'{reason.format(tmp=tmp_path)}')


def test_console_shows_results_and_the_log_file_keeps_the_listings(
        evaluated):
    result, _, work_dir = evaluated
    console = result.stdout + result.stderr
    for listing in ('Config:', 'Hooks will be executed',
                    'System environment'):
        assert listing not in console
    assert len(console.strip().splitlines()) < 20
    assert console.strip().splitlines()[-1].startswith('Evaluated ')
    import glob
    (log_file, ) = glob.glob(str(work_dir / '*' / '*.log'))
    with open(log_file) as f:
        log = f.read()
    for listing in ('Config:', 'Hooks will be executed',
                    'System environment'):
        assert listing in log


@pytest.mark.parametrize('tool', ['tools/train.py', 'tools/test.py'])
def test_help_answers_before_the_heavy_imports(tool):
    """--help (and a usage error) must not wait seconds for torch and
    mmpretrain to import."""
    import subprocess
    import sys

    from helpers.tools import REPO
    for args, code in ((['--help'], 0), ([], 2)):
        result = subprocess.run(
            [sys.executable, '-X', 'importtime', tool, *args], cwd=REPO,
            capture_output=True, text=True, timeout=120)
        assert result.returncode == code
        imported = [line.rsplit('|', 1)[-1].strip()
                    for line in result.stderr.splitlines()
                    if line.startswith('import time:')]
        assert 'argparse' in imported
        assert 'torch' not in imported and 'mmpretrain' not in imported


# --- tools/analysis_tools/eval_metric.py, tools/misc/ ---


def test_eval_metric_rescores_a_saved_out_file(evaluated, tmp_path):
    """Top-k and per-class precision / recall from the --out file, against
    the same counts made by hand."""
    _, out, _ = evaluated
    with open(out, 'rb') as f:
        predictions = pickle.load(f)
    scores = torch.stack([p['pred_score'] for p in predictions])
    labels = torch.cat([p['gt_label'] for p in predictions])
    # mmpretrain's rule: a hit must also score above thrs=0.0
    top3_scores, top3_labels = scores.topk(3, dim=1)
    top3 = ((top3_labels == labels[:, None]) & (top3_scores > 0)).any(1)
    predicted = scores.argmax(1)
    saved = str(tmp_path / 'metrics.json')
    result = call_tool('tools/analysis_tools/eval_metric.py', out,
                       '--out', saved, check=True)
    import json
    with open(saved) as f:
        metrics = json.load(f)
    assert metrics['accuracy/top1'] == pytest.approx(
        100 * (predicted == labels).float().mean().item(), abs=1e-4)
    assert 'accuracy/top5: ' in result.stdout
    for name, counted in (('precision', lambda c: predicted == c),
                          ('recall', lambda c: labels == c)):
        per_class = metrics[f'single-label/{name}_classwise']
        assert len(per_class) == 10
        for cls in range(10):
            chosen = counted(cls)
            hits = (predicted[chosen] == labels[chosen]).sum().item()
            expected = 100 * hits / chosen.sum().item() if chosen.any() \
                else 0.0
            assert per_class[cls] == pytest.approx(expected, abs=1e-3)
    result = call_tool('tools/analysis_tools/eval_metric.py', out,
                       '--metric', 'type=Accuracy', 'topk=3', check=True)
    assert result.stdout.strip() == (
        f'accuracy/top3: {100 * top3.float().mean().item():.2f}')


@pytest.mark.parametrize('args,message', [
    (['nope.pkl'], 'error: results file not found: nope.pkl'),
    (['{out}', '--metric', 'topk=1'],
     'error: --metric topk=1: name the metric with type=..., e.g. '
     'type=Accuracy'),
    (['{out}', '--metric', 'type=Acuracy'],
     'error: Acuracy is not in the mmpre_inception::metric registry.')])
def test_eval_metric_names_what_it_cannot_use(evaluated, args, message):
    _, out, _ = evaluated
    result = call_tool('tools/analysis_tools/eval_metric.py',
                       *[arg.format(out=out) for arg in args])
    assert result.returncode == 2
    assert result.stderr.strip().startswith(message), result.stderr


def test_verify_dataset_lists_each_broken_image_with_its_reason(
        shapes_root, tiny_options, tmp_path):
    import os
    import shutil
    root = str(tmp_path / 'data')
    shutil.copytree(shapes_root, root)
    names = [line.split()[0] for line in open(
        osp.join(root, 'meta', 'val.txt'))]
    broken = osp.join(root, 'val', names[3])
    with open(broken, 'wb') as f:
        f.write(b'not an image')
    os.remove(osp.join(root, 'val', names[7]))
    listed = str(tmp_path / 'broken.txt')
    result = call_tool('tools/misc/verify_dataset.py', TINY_CONFIG,
                       '--split', 'val', '--out', listed,
                       '--cfg-options',
                       f'val_dataloader.dataset.data_root={root}')
    assert result.returncode == 1, result.stderr
    lines = open(listed).read().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f'cannot read image {broken}: not an image')
    assert lines[1].startswith(
        f'cannot read image {osp.join(root, "val", names[7])}: ')
    assert result.stdout.strip().splitlines()[-1] == (
        f'{len(names) - 2} of {len(names)} images open; 2 do not (listed '
        f'in {listed})')
    result = call_tool('tools/misc/verify_dataset.py', TINY_CONFIG,
                       '--cfg-options',
                       f'train_dataloader.dataset.data_root={shapes_root}')
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith('images open; 0 do not')


def test_two_runs_started_in_the_same_second_keep_their_own_logs(
        one_epoch_run, tiny_options, tmp_path, monkeypatch):
    """mmengine names a Runner's logger after its config and the second it
    started; the second run of a process in that second still logs to its
    own console and work dir, without a warning that its scope exists."""
    import time
    import warnings

    import mmengine.runner.runner as mmengine_runner

    class SameSecond:  # the time module, with a clock that stands still
        def __getattr__(self, name):
            return getattr(time, name)

        @staticmethod
        def time():
            return 1_800_000_000.0

    monkeypatch.setattr(mmengine_runner, 'time', SameSecond())
    checkpoint = osp.join(one_epoch_run, 'epoch_1.pth')
    for run in ('first', 'second'):
        work_dir = tmp_path / run
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            result = call_tool('tools/test.py', TINY_CONFIG, checkpoint,
                               '--work-dir', str(work_dir), *tiny_options(),
                               check=True)
        assert not [w for w in caught if 'has been created' in str(
            w.message)], [str(w.message) for w in caught]
        assert 'Epoch(test) [' in result.stdout, (run, result.stdout[-2000:])
        log_file, = work_dir.glob('*/*.log')
        assert f'Load checkpoint from {checkpoint}' in log_file.read_text()


CLEAN_RUNS = '''
import runpy, sys
for argv in {runs!r}:
    sys.argv = argv
    try:
        runpy.run_path(argv[0], run_name='__main__')
    except SystemExit as end:
        assert not end.code, (argv, end.code)
'''


@pytest.mark.slow
def test_clean_runs_print_no_warning(one_epoch_run, tiny_options, tmp_path):
    """Training, a resume, --out and --gpu-decode in one fresh interpreter,
    with Python's default warning filters as on a command line: no
    warning of Python's, mmengine's or ours on the console."""
    copy_work_dir(one_epoch_run, tmp_path / 'work')
    train = ['tools/train.py', TINY_CONFIG, '--work-dir',
             str(tmp_path / 'work'), '--resume',
             *tiny_options('train_cfg.max_epochs=2',
                           'train_dataloader.dataset.indices=8')]
    checkpoint = str(tmp_path / 'work' / 'epoch_2.pth')
    test = ['tools/test.py', TINY_CONFIG, checkpoint, '--work-dir',
            str(tmp_path / 'test')]
    options = tiny_options('test_dataloader.dataset.indices=8')
    runs = [train, [*test, '--out', str(tmp_path / 'p.pkl'), *options],
            [*test, '--gpu-decode', *options]]
    result = run_tool('-c', CLEAN_RUNS.format(runs=runs), check=True)
    noise = [line for line in (result.stdout + result.stderr).splitlines()
             if re.search(r'\w+Warning\b|- WARNING -|warnings\.warn', line)]
    assert noise == [], noise
    assert osp.isfile(checkpoint) and osp.isfile(tmp_path / 'p.pkl')


@pytest.mark.parametrize('fails, caller_froze',
                         [(False, False), (True, False), (False, True)])
def test_a_run_keeps_what_it_imported_out_of_the_collector(
        fails, caller_froze, monkeypatch):
    """train.py's and test.py's run (apis.process_group) freezes the
    objects that exist as it starts, torch's and mmengine's, and gives them
    back to the garbage collector as it ends, after an error too; a caller
    that had frozen objects itself (the tests' call_tool) gives them back.
    The process group's teardown, whose collection frees the Runner's
    cycles, comes while they are still frozen, so that it walks only the
    run's objects."""
    import gc

    import mmpre_inception.utils
    from mmpre_inception.apis import process_group
    frozen_at_teardown = []
    monkeypatch.setattr(mmpre_inception.utils, 'shutdown_distributed',
                        lambda: frozen_at_teardown.append(
                            gc.get_freeze_count()))
    assert gc.get_freeze_count() == 0
    if caller_froze:
        gc.freeze()
    try:
        with contextlib.suppress(ValueError):
            with process_group('none'):
                assert gc.get_freeze_count() > 100_000  # torch: 190,000
                if fails:
                    raise ValueError
        assert (gc.get_freeze_count() > 0) == caller_froze
        assert len(frozen_at_teardown) == 1
        assert frozen_at_teardown[0] > 100_000
    finally:
        gc.unfreeze()
