"""Each tool that mmpretrain also has takes mmpretrain's command line, as
its user guides write it (positional arguments, long and short options,
``--not-show``), with our configs, and gives the picture or the table."""
import glob
import json
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from helpers.tools import (MAIN_CONFIG, MIXUP_CONFIG, TINY_CONFIG,
                           call_tool, png_size)

pytestmark = pytest.mark.slow


@pytest.mark.parametrize('mode,panels', [
    ('original', ['original']),
    ('transformed', ['Mixup/CutMix (batch)']),
    ('concat', ['original', 'Mixup/CutMix (batch)']),
])
def test_browse_dataset_takes_mmpretrains_options(shapes_root, tmp_path,
                                                  mode, panels):
    result = call_tool(
        'tools/visualization/browse_dataset.py', MIXUP_CONFIG, '-o',
        str(tmp_path), '-n', '2', '-m', mode, '-p', 'train', '--not-show',
        '--cfg-options', f'train_dataloader.dataset.data_root={shapes_root}',
        check=True)
    assert f'2 images x {len(panels)} steps ({", ".join(panels)})' in \
        result.stdout
    assert png_size(tmp_path / f'train_{mode}.png') == (
        200 * len(panels), 50 + 2 * 230)


def test_browse_dataset_shows_the_test_phase(shapes_root, tmp_path):
    result = call_tool(
        'tools/visualization/browse_dataset.py', MAIN_CONFIG, '-o',
        str(tmp_path), '-n', '1', '-p', 'test', '-r', '0.5', '--not-show',
        '--cfg-options', f'test_dataloader.dataset.data_root={shapes_root}',
        check=True)
    # mmpretrain's Inception test pipeline, and no batch step outside
    # training.
    assert '(original, ResizeEdge, CenterCrop)' in result.stdout
    assert png_size(tmp_path / 'test_pipeline.png') == (3 * 100, 50 + 130)


def recount(out_file: str) -> np.ndarray:
    with open(out_file, 'rb') as f:
        samples = pickle.load(f)
    matrix = np.zeros((10, 10), dtype=np.int64)
    for sample in samples:
        matrix[int(sample['gt_label'][0]), int(sample['pred_label'][0])] += 1
    return matrix


def test_confusion_matrix_of_a_checkpoint_and_of_a_result_file(
        one_epoch_run, evaluated, tiny_options, tmp_path):
    _, out_file, _ = evaluated
    expected = recount(out_file)
    # From the checkpoint: the config's test set is run, as mmpretrain's
    # tool does; the counts equal those of tools/test.py's --out file.
    result = call_tool(
        'tools/analysis_tools/confusion_matrix.py', TINY_CONFIG,
        osp.join(one_epoch_run, 'epoch_1.pth'), '--show-path',
        str(tmp_path / 'cm.png'), '--include-values', '--out',
        str(tmp_path / 'cm.json'), *tiny_options(), check=True)
    assert png_size(tmp_path / 'cm.png') == (900, 800)
    with open(tmp_path / 'cm.json') as f:
        np.testing.assert_array_equal(json.load(f), expected)
    assert f'{np.trace(expected)} of 20 correct' in result.stdout
    # From the result file, the matrix as mmpretrain's --out writes it.
    call_tool('tools/analysis_tools/confusion_matrix.py', TINY_CONFIG,
              out_file, '--out', str(tmp_path / 'cm.pkl'), *tiny_options(),
              check=True)
    with open(tmp_path / 'cm.pkl', 'rb') as f:
        matrix = pickle.load(f)
    assert isinstance(matrix, torch.Tensor)
    np.testing.assert_array_equal(matrix.numpy(), expected)


def test_confusion_matrix_refuses_an_out_it_cannot_write(evaluated):
    _, out_file, _ = evaluated
    result = call_tool('tools/analysis_tools/confusion_matrix.py',
                       TINY_CONFIG, out_file, '--out', 'cm.png')
    assert result.returncode == 2
    assert result.stderr.strip() == (
        'error: --out cm.png: give a .csv, .pkl, .json file')


def test_analyze_results_takes_mmpretrains_positionals(evaluated, tmp_path,
                                                       tiny_options):
    _, out_file, _ = evaluated
    result = call_tool('tools/analysis_tools/analyze_results.py',
                       TINY_CONFIG, out_file, '--out-dir', str(tmp_path),
                       '--topk', '2', '-r', '0.5', *tiny_options(),
                       check=True)
    with open(tmp_path / 'galleries.json') as f:
        listing = json.load(f)
    assert f'{len(listing["success"])} successes' in result.stdout
    assert 1 <= len(listing['success']) + len(listing['failure']) <= 4
    # Half of 1000 pixels wide, one row of five 100-pixel panels.
    assert png_size(tmp_path / 'success.png') == (500, 200)


def test_analyze_logs_and_vis_cam_take_mmpretrains_options(
        one_epoch_run, shapes_root, tmp_path):
    log, = glob.glob(osp.join(one_epoch_run, '*', 'vis_data', '2*.json'))
    call_tool('tools/analysis_tools/analyze_logs.py', 'plot_curve', log,
              '--keys', 'loss', '--legend', 'loss', '--window-size', '6*4',
              '--out', str(tmp_path / 'loss.png'), check=True)
    assert png_size(tmp_path / 'loss.png') == (600, 400)
    pytest.importorskip('pytorch_grad_cam',
                        reason='grad-cam is optional '
                        '(requirements/optional.txt)')
    image = osp.join(shapes_root, 'val', 'val_star_0000.JPEG')
    checkpoint = osp.join(one_epoch_run, 'epoch_1.pth')
    result = call_tool('tools/visualization/vis_cam.py', image, TINY_CONFIG,
                       checkpoint, '--target-layers', 'backbone.Mixed_6e',
                       '--method', 'GradCAM', '--save-path',
                       str(tmp_path / 'cam.png'), check=True)
    assert 'gradcam at backbone.Mixed_6e' in result.stdout
    assert png_size(tmp_path / 'cam.png') == (2 * 80, 80)
    result = call_tool('tools/visualization/vis_cam.py', image, TINY_CONFIG,
                       '--preview-model', check=True)
    names = result.stdout.split()
    assert 'backbone.Mixed_6e' in names and 'backbone.Mixed_7c' in names


def test_verify_dataset_takes_mmpretrains_options(shapes_root, tmp_path):
    out = tmp_path / 'broken.log'
    result = call_tool('tools/misc/verify_dataset.py', MAIN_CONFIG,
                       '--out-path', str(out), '--phase', 'val',
                       '--num-process', '2', '--cfg-options',
                       f'val_dataloader.dataset.data_root={shapes_root}',
                       check=True)
    assert '20 of 20 images open; 0 do not' in result.stdout
    assert out.read_text() == ''
