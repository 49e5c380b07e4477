"""Train, resume and evaluate through the command-line tools."""
import os
import os.path as osp
import pickle
import re

import pytest
import torch
from conftest import REPO, run_tool

pytestmark = pytest.mark.slow

DEMO_CONFIG = osp.join(REPO, 'configs', 'demo', 'inception_v3_1xb16_shapes.py')
ITERS_PER_EPOCH = 5  # 40 training images, batch 8


@pytest.fixture(scope='module')
def tiny_config(shapes_root, tmp_path_factory):
    """The demo config on the 40-image test data set at 80x80."""
    path = tmp_path_factory.mktemp('cfg') / 'tiny.py'
    path.write_text(f'''
_base_ = [{DEMO_CONFIG!r}]
data_root = {shapes_root!r}
input_size = 80
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=input_size),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=input_size, edge='short'),
    dict(type='CenterCrop', crop_size=input_size),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=8, dataset=dict(
    data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(batch_size=8, dataset=dict(
    data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
param_scheduler = dict(T_max=2, end=2)
train_cfg = dict(max_epochs=2, val_interval=1)
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=1, max_keep_ckpts=3))
''')
    return str(path)


@pytest.fixture(scope='module')
def one_epoch_run(tiny_config, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('work'))
    run_tool('tools/train.py', tiny_config, '--work-dir', work_dir,
             '--cfg-options', 'train_cfg.max_epochs=1')
    return work_dir


def test_train_writes_checkpoint_and_logs(one_epoch_run):
    checkpoint = osp.join(one_epoch_run, 'epoch_1.pth')
    with open(osp.join(one_epoch_run, 'last_checkpoint')) as f:
        assert f.read().strip() == checkpoint
    # Runner checkpoints load under weights_only=True (torch's default).
    state = torch.load(checkpoint, weights_only=True)
    assert state['meta']['epoch'] == 1
    assert state['meta']['iter'] == ITERS_PER_EPOCH
    assert 'head.AuxLogits.fc.weight' in state['state_dict']


def test_resume_continues_from_the_last_checkpoint(one_epoch_run,
                                                   tiny_config):
    result = run_tool('tools/train.py', tiny_config, '--work-dir',
                      one_epoch_run, '--resume')
    log = result.stdout + result.stderr
    assert re.search(r'resumed epoch: 1, iter: 5', log), log[-3000:]
    assert 'Epoch(train) [1]' not in log  # epoch 1 was not trained again
    state = torch.load(osp.join(one_epoch_run, 'epoch_2.pth'),
                       weights_only=True)
    assert state['meta']['epoch'] == 2
    assert state['meta']['iter'] == \
        2 * ITERS_PER_EPOCH
    # AdamW's step count went on from the restored optimizer state.
    steps = {float(s['step']) for s in state['optimizer']['state'].values()}
    assert steps == {2.0 * ITERS_PER_EPOCH}


def test_test_tool_scores_the_trained_checkpoint(one_epoch_run, tiny_config,
                                                 tmp_path):
    out = str(tmp_path / 'preds.pkl')
    checkpoint = osp.join(one_epoch_run, 'epoch_1.pth')
    result = run_tool('tools/test.py', tiny_config, checkpoint,
                      '--work-dir', str(tmp_path), '--out', out)
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


def test_metrics_json(one_epoch_run, tiny_config, tmp_path):
    out = tmp_path / 'metrics.json'
    run_tool('tools/test.py', tiny_config,
             osp.join(one_epoch_run, 'epoch_1.pth'), '--work-dir',
             str(tmp_path), '--out-item', 'metrics', '--out', str(out))
    import json
    metrics = json.loads(out.read_text())
    assert set(metrics) == {'accuracy/top1', 'accuracy/top5'}


def test_missing_config_exits_with_one_line(tmp_path):
    for tool in ('tools/train.py', 'tools/test.py'):
        args = [tool, 'missing.py'] + (['x.pth'] if 'test' in tool else [])
        result = run_tool(*args, check=False)
        assert result.returncode == 2
        assert result.stderr.strip() == 'error: config file not found: ' \
            'missing.py'


def test_missing_checkpoint_exits_with_one_line(tiny_config):
    result = run_tool('tools/test.py', tiny_config, 'nowhere.pth',
                      check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == \
        'error: checkpoint file not found: nowhere.pth'


def test_dist_test_on_two_cpu_processes_matches_single_process(
        one_epoch_run, tiny_config, tmp_path):
    """tools/dist_test.sh on 2 CPU processes (gloo): every sample scored
    once, with the single-process predictions."""
    checkpoint = osp.join(one_epoch_run, 'epoch_1.pth')
    single, dist = str(tmp_path / 'single.pkl'), str(tmp_path / 'dist.pkl')
    run_tool('tools/test.py', tiny_config, checkpoint, '--work-dir',
             str(tmp_path / 'single'), '--out', single)
    import subprocess
    import sys
    env = dict(os.environ, PORT=str(29500 + os.getpid() % 1000),
               PYTHON=sys.executable)
    result = subprocess.run(
        ['bash', 'tools/dist_test.sh', tiny_config, checkpoint, '2',
         '--work-dir', str(tmp_path / 'dist'), '--out', dist],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count('Evaluated ') == 1
    with open(single, 'rb') as f:
        expected = pickle.load(f)
    with open(dist, 'rb') as f:
        got = pickle.load(f)
    assert [p['sample_idx'] for p in got] == list(range(20))
    for a, b in zip(got, expected):
        assert a['img_path'] == b['img_path']
        torch.testing.assert_close(a['pred_score'], b['pred_score'],
                                   rtol=1e-4, atol=1e-6)


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU path')
def test_amp_without_gpu_exits_with_one_line(tiny_config):
    result = run_tool('tools/train.py', tiny_config, '--amp', check=False)
    assert result.returncode == 2
    assert result.stderr.strip().startswith('error: --amp needs a CUDA GPU')
