"""benchmarks/: every mode of benchmark.py runs and reports what it
measured; make_checkpoint.py writes weights with spread predictions."""
import pytest
import torch
from helpers.tools import MIXUP_CONFIG, call_tool
from mmpretrain.models.backbones import InceptionV3 as MMPretrainInceptionV3

from mmpre_inception.checkpoint import load_checkpoint_file


def benchmark_rows(*args: str) -> list:
    result = call_tool('benchmarks/benchmark.py',
                       'configs/inception_v3_8xb32_in1k.py', '--runs', '1',
                       '--warmup', '1', *args, check=True)
    lines = result.stdout.splitlines()
    assert lines[-1].startswith('peak memory: ')
    rows = [line.split() for line in lines
            if line.startswith(('batch', 'e2e'))]
    for row in rows:
        rate = row.index('img/s') - 1
        assert float(row[rate]) > 0
    return rows


@pytest.mark.slow
def test_benchmark_prints_a_rate_per_model():
    # --cudnn-benchmark only matters on a GPU; here it must be accepted.
    rows = benchmark_rows('--mode', 'model', '--shape', '96', '--batch-size',
                          '2', '3', '--fold-bn', '--compare',
                          '--cudnn-benchmark')
    names = ['mmpre_inception', 'mmpretrain', 'torchvision', 'timm']
    assert [(row[1], row[2]) for row in rows] == \
        [('2', name) for name in names] + [('3', name) for name in names]
    assert all(row[-1].endswith('x)') for row in rows if row[2] != names[0])


@pytest.mark.slow
def test_benchmark_train_mode_runs_each_configs_real_step():
    """Ours and mmpretrain's configs through mmengine's Runner, the other
    two with a plain SGD step; each row also says how many aten calls one
    step makes against the network's own forward, loss and backward."""
    rows = benchmark_rows('--mode', 'train', '--shape', '80',
                          '--batch-size', '2', '--compare')
    assert [row[2] for row in rows] == ['mmpre_inception', 'mmpretrain',
                                        'torchvision', 'timm']
    for row in rows:
        calls = int(row[row.index('aten') - 1])
        ratio = float(row[row.index("network's") - 2].rstrip('x'))
        assert calls > 1000 and 1.0 <= ratio < 1.1, row


@pytest.mark.slow
@pytest.mark.parametrize('decoding', [['--compare'], ['--gpu-decode']])
def test_benchmark_end_to_end(shapes_root, decoding):
    compare = decoding == ['--compare']
    rows = benchmark_rows('--mode', 'e2e', '--data-root', shapes_root,
                          '--max-images', '4', '--batch-size', '2',
                          '--fold-bn', *decoding)
    assert [row[1] for row in rows] == ['mmpre_inception', 'mmpretrain'
                                        ][:len(rows)]
    assert len(rows) == (2 if compare else 1)


@pytest.mark.slow
def test_benchmark_loader_mode_rates_each_pipeline(shapes_root):
    """One line per pipeline and path; RandAugment has no device path."""
    result = call_tool('benchmarks/benchmark.py', MIXUP_CONFIG,
                       '--mode', 'loader', '--data-root', shapes_root,
                       '--max-images', '4', '--batch-size', '2', '--runs',
                       '1', '--warmup', '0', check=True)
    rows = [line.split('  ', 2)[1].strip() for line in
            result.stdout.splitlines() if line.startswith('loader  ')]
    assert rows == ['test CPU pipeline', 'test --gpu-decode workers',
                    'test --gpu-decode on cpu', 'train CPU pipeline',
                    'train --gpu-decode workers', 'train --gpu-decode on cpu']
    assert 'step RandAugment runs on the CPU only' in result.stdout
    assert result.stdout.count('n/a') == 2


@pytest.mark.slow
def test_benchmark_checkpoint_gives_spread_predictions(shapes_root, tmp_path):
    """Its BatchNorm statistics are those of the images, and its logits
    have the asked spread, so the softmax is not saturated."""
    from mmengine.dataset import Compose, pseudo_collate
    from mmengine.registry import DefaultScope
    out = str(tmp_path / 'calibrated.pth')
    result = call_tool('benchmarks/make_checkpoint.py',
                       shapes_root, out, '--images', '6', '--logit-std', '2')
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].startswith(
        f'wrote {out}: logit std 2.00')
    state = load_checkpoint_file(out)['state_dict']
    assert 'backbone.fc.weight' in state  # mmpretrain's layout

    network = MMPretrainInceptionV3(num_classes=1000, aux_logits=False)
    network.load_state_dict(
        {k[len('backbone.'):]: v for k, v in state.items()}, strict=True)
    network.train(False)
    pipeline_cfg = [
        dict(type='LoadImageFromFile'),
        dict(type='ResizeEdge', scale=342, edge='short'),
        dict(type='CenterCrop', crop_size=299),
        dict(type='PackInputs')
    ]
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        pipeline = Compose(pipeline_cfg)
    with open(f'{shapes_root}/meta/val.txt') as f:
        names = [line.split()[0] for line in f][:6]
    batch = pseudo_collate(
        [pipeline(dict(img_path=f'{shapes_root}/val/{n}')) for n in names])
    images = torch.stack(batch['inputs']).flip(1).float()  # BGR -> RGB
    mean = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
    inputs = (images - mean) / std
    with torch.no_grad():
        stem = network.Conv2d_1a_3x3.conv(inputs)
        logits = network(inputs)[-1]
    # The stem's BatchNorm holds the statistics of these very images.
    torch.testing.assert_close(network.Conv2d_1a_3x3.bn.running_mean,
                               stem.mean((0, 2, 3)), rtol=1e-4, atol=1e-5)
    assert logits.std().item() == pytest.approx(2.0, rel=1e-3)
    assert logits.softmax(1).max(1).values.max() < 0.99


def test_benchmark_tools_name_a_missing_file(tmp_path):
    missing = str(tmp_path / 'nowhere')
    for args in [('benchmarks/benchmark.py',
                  'configs/inception_v3_8xb32_in1k.py', '--mode', 'e2e',
                  '--data-root', missing),
                 ('benchmarks/benchmark.py',
                  'configs/inception_v3_8xb32_in1k.py',
                  str(tmp_path / 'missing.pth')),
                 ('benchmarks/make_checkpoint.py',
                  missing, str(tmp_path / 'out.pth'))]:
        result = call_tool(*args)
        assert result.returncode == 2, args
        error = result.stderr.strip().splitlines()
        assert len(error) == 1 and error[0].startswith('error: '), error
        assert missing in error[0] or 'missing.pth' in error[0]
