"""The analysis tools we ship no second of: mmpretrain's own get_flops,
print_config, vis_scheduler and verify_dataset run our configs as they are
(docs/analysis.md) and say what ours would."""
import importlib.util
import os.path as osp
import re
import shutil

import mmpretrain
import numpy as np
import pytest
from helpers.tools import MAIN_CONFIG, MIXUP_CONFIG, call_script, png_size
from mmengine.config import Config

from mmpre_inception.models import InceptionV3Head

pytestmark = pytest.mark.slow

MIM = osp.join(osp.dirname(mmpretrain.__file__), '.mim')
MMPRETRAIN_CONFIG = osp.join(MIM, 'configs', 'inception_v3',
                             'inception-v3_8xb32_in1k.py')


def tool(path: str) -> str:
    return osp.join(MIM, 'tools', path)


def tool_module(path: str):
    """One of mmpretrain's tools imported as a module (its functions)."""
    spec = importlib.util.spec_from_file_location(
        'mmpretrain_' + osp.basename(path)[:-3], tool(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_get_flops_counts_our_network_as_mmpretrains():
    """The same backbone: our count is mmpretrain's own model's less its
    classifier (2048 x 1000 multiply-adds, in its "backbone", in our
    head); our parameters are its own plus the auxiliary classifier's."""

    def figures(config):
        out = call_script(tool('analysis_tools/get_flops.py'), config,
                          '--shape', '299').stdout
        return (float(re.search(r'Flops: ([\d.]+)G', out).group(1)),
                float(re.search(r'Params: ([\d.]+)M', out).group(1)))

    (flops, params), (their_flops, their_params) = figures(
        MAIN_CONFIG), figures(MMPRETRAIN_CONFIG)
    aux = sum(p.numel() for p in InceptionV3Head(1000).AuxLogits.parameters())
    # Printed to three decimals.
    assert flops == pytest.approx(their_flops - 2048 * 1000 / 1e9, abs=1e-3)
    assert params == pytest.approx(their_params + aux / 1e6, abs=1e-3)
    assert their_params == pytest.approx(23.835)  # the model zoo's 23.83 M


def test_print_config_shows_our_config_with_its_options():
    result = call_script(tool('misc/print_config.py'), MAIN_CONFIG,
                         '--cfg-options', 'train_dataloader.batch_size=3')
    assert 'batch_size=3' in result.stdout
    assert 'InceptionClassifier' in result.stdout


def simulated(config: str, dataset_size: int, gpus: int, work_dir: str):
    """The learning rates and momenta mmpretrain's vis_scheduler draws."""
    from torch.utils.data import DataLoader
    cfg = Config.fromfile(config)
    cfg.work_dir, cfg.log_level = work_dir, 'WARNING'
    loader = DataLoader(range(dataset_size),
                        batch_size=cfg.train_dataloader.batch_size * gpus)
    schedule = tool_module('visualization/vis_scheduler.py').simulate_train(
        loader, cfg, by_epoch=True)
    return np.array(schedule['lr']), np.array(schedule['momentum'])


def test_vis_scheduler_draws_the_papers_staircase(tmp_path):
    out = tmp_path / 'lr.png'
    call_script(tool('visualization/vis_scheduler.py'), MAIN_CONFIG, '-d',
                '2560', '-n', '8', '--save-path', str(out), '--not-show')
    assert png_size(out) == (1200, 700)  # its 12*7 inches
    # 2560 images / (32 x 8) = 10 iterations per epoch, 100 epochs: the
    # paper's 0.045, x0.94 every two epochs; RMSProp momentum 0.9.
    lr, momentum = simulated(MAIN_CONFIG, 2560, 8, str(tmp_path))
    epochs = np.arange(1000) // 10
    np.testing.assert_allclose(lr, 0.045 * 0.94**(epochs // 2), rtol=1e-12)
    np.testing.assert_array_equal(momentum, 0.9)


def test_vis_scheduler_follows_warmup_and_cosine(tmp_path):
    """The Mixup/RandAugment recipe: 5 warm-up epochs converted to
    iterations (LinearLR from 1e-3 x), then a cosine stepped per epoch
    from epoch 5 to 300 down to 1e-5; AdamW's beta1 as the momentum."""
    lr, momentum = simulated(MIXUP_CONFIG, 2048, 8, str(tmp_path))
    assert len(lr) == 300 * 4
    iters = np.arange(1200)
    # mmengine's LinearLR reaches the full rate at its last step, end - 1
    # (its total_iters is end - begin - 1): 19 steps up to iteration 19.
    warmup = 5e-4 * (1e-3 + (1 - 1e-3) * iters[:20] / 19)
    epochs = iters[20:] // 4
    cosine = 1e-5 + (5e-4 - 1e-5) * (1 + np.cos(np.pi * (epochs - 5) /
                                                295)) / 2
    np.testing.assert_allclose(lr, np.concatenate([warmup, cosine]),
                               rtol=1e-9)
    np.testing.assert_array_equal(momentum, 0.9)


def test_verify_dataset_finds_a_broken_image(shapes_root, tmp_path):
    """It recognises our loader (mmcv's name, our checks) and lists the
    image it refuses: a JPEG cut short, which OpenCV alone would decode
    half grey without a word."""
    root = tmp_path / 'data'
    shutil.copytree(shapes_root, root)
    names = [line.split()[0]
             for line in (root / 'meta' / 'val.txt').read_text().split('\n')
             if line]
    broken = root / 'val' / names[3]
    broken.write_bytes(broken.read_bytes()[:300])
    log = tmp_path / 'broken.log'
    result = call_script(tool('misc/verify_dataset.py'), MAIN_CONFIG,
                         '--out-path', str(log), '--phase', 'val',
                         '--cfg-options',
                         f'val_dataloader.dataset.data_root={root}')
    assert '1 broken files found' in result.stdout
    assert log.read_text().split() == [str(broken)]
