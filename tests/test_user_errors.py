"""What a user mistypes or brings, through the command they type: one
``error:`` line naming the option, key or path, with the status of
``mmpre_inception.errors.EXIT_STATUS`` (2 for what was typed, 1 for what
a run met), and never a traceback."""
import os.path as osp
import re
import subprocess

import numpy as np
import pytest
import torch
from helpers.tools import (REPO, TINY_CONFIG, call_tool, copy_work_dir,
                           one_line_error)

from mmpre_inception.errors import EXIT_STATUS, ConfigError

DEMO_IMAGE = osp.join(REPO, 'demo', 'star.jpg')


def test_the_exit_status_table_is_the_documented_one():
    text = open(osp.join(REPO, 'docs', 'troubleshooting.md')).read()
    for kind, status in EXIT_STATUS.items():
        assert f'`{kind.__name__}`' in text, kind
    assert EXIT_STATUS[ConfigError] == 2


@pytest.mark.parametrize('option, needs', [
    ('optim_wrapper.optimizer.lr=abc', "='abc': needs a number"),
    ('train_cfg.max_epochs=abc', "='abc': needs an integer"),
    ('model.head.num_classes=abc', "='abc': needs an integer"),
    ('train_dataloader.batch_size=2.5', '=2.5: needs an integer'),
    ('train_dataloader.batch_size=0', '=0: needs an integer of at least 1'),
])
def test_cfg_options_of_the_wrong_type_name_the_key(option, needs,
                                                    tiny_options, tmp_path):
    key = option.split('=')[0]
    for tool in ('tools/train.py', 'tools/test.py'):
        args = [tool, TINY_CONFIG] + (['x.pth'] if 'test' in tool else [])
        result = call_tool(*args, '--work-dir', str(tmp_path),
                           *tiny_options(option))
        one_line_error(result, f'--cfg-options {key}{needs}')


def test_resume_from_a_missing_file_is_one_line(tiny_options, tmp_path):
    missing = str(tmp_path / 'nope' / 'epoch_9.pth')
    result = call_tool('tools/train.py', TINY_CONFIG, '--resume', missing,
                       '--work-dir', str(tmp_path / 'w'), *tiny_options())
    one_line_error(result, f'--resume checkpoint file not found: {missing}')


def mounted_tmpfs(folder, options: str):
    """A tmpfs mounted on ``folder`` (a context); skips where mounting is
    not allowed (it needs root)."""
    folder.mkdir()
    mounted = subprocess.run(['mount', '-t', 'tmpfs', '-o', options,
                              'tmpfs', str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip('this test mounts a file system, which needs root: '
                    + mounted.stderr.decode().strip())
    return folder


@pytest.fixture
def read_only_folder(tmp_path):
    yield mounted_tmpfs(tmp_path / 'read_only', 'ro')
    subprocess.run(['umount', str(tmp_path / 'read_only')], check=True)


@pytest.fixture
def small_disk(tmp_path):
    yield mounted_tmpfs(tmp_path / 'small', 'size=4m')
    # lazily: the logger of the run in this process keeps its file open
    subprocess.run(['umount', '-l', str(tmp_path / 'small')], check=True)


@pytest.mark.slow
def test_a_full_disk_ends_training_with_one_line(small_disk, tiny_options):
    work_dir = small_disk / 'work'
    result = call_tool('tools/train.py', TINY_CONFIG, '--work-dir',
                       str(work_dir), *tiny_options('train_cfg.max_epochs=1'))
    line = one_line_error(
        result, f'cannot write {work_dir}/epoch_1.pth: No space left on '
        'device; everything written before it is complete', status=1)
    assert line.endswith('free space, then run again (training: --resume)')
    assert not list(work_dir.glob('.epoch_1.pth.*'))  # no partial file


def test_read_only_work_dirs_and_out_folders_are_named(
        read_only_folder, one_epoch_run, tiny_options):
    checkpoint = osp.join(one_epoch_run, 'epoch_1.pth')
    work_dir = str(read_only_folder / 'work')
    for args in (('tools/train.py', TINY_CONFIG),
                 ('tools/test.py', TINY_CONFIG, checkpoint)):
        result = call_tool(*args, '--work-dir', work_dir, *tiny_options())
        one_line_error(result, f'--work-dir {work_dir}: cannot write in '
                       f'{read_only_folder}; choose a writable folder')
    out = str(read_only_folder / 'preds.pkl')
    result = call_tool('tools/test.py', TINY_CONFIG, checkpoint, '--out',
                       out, *tiny_options())
    one_line_error(result, f'--out {out}: cannot write in {read_only_folder}')


def test_demo_names_a_missing_config_a_bad_topk_and_a_missing_gpu(
        one_epoch_run):
    checkpoint = osp.join(one_epoch_run, 'epoch_1.pth')
    one_line_error(call_tool('demo/image_demo.py', DEMO_IMAGE, 'missing.py',
                             checkpoint), 'config file not found: missing.py')
    result = call_tool('demo/image_demo.py', DEMO_IMAGE, TINY_CONFIG,
                       checkpoint, '--topk', '0')
    assert result.returncode == 2
    assert "argument --topk: 0: give 1 or more" in result.stderr
    if not torch.cuda.is_available():
        one_line_error(call_tool('demo/image_demo.py', DEMO_IMAGE, TINY_CONFIG,
                                 checkpoint, '--device', 'cuda'),
                       '--device cuda: this machine has no CUDA GPU that '
                       'torch can use; use --device cpu')


def test_onnx_export_names_a_missing_config_and_a_folder_output(
        one_epoch_run, tmp_path):
    checkpoint = osp.join(one_epoch_run, 'epoch_1.pth')
    one_line_error(call_tool('tools/deployment/pytorch2onnx.py', 'missing.py',
                             checkpoint, '--output-file',
                             str(tmp_path / 'x.onnx')),
                   'config file not found: missing.py')
    one_line_error(call_tool('tools/deployment/pytorch2onnx.py', TINY_CONFIG,
                             checkpoint, '--output-file', str(tmp_path)),
                   f'--output-file {tmp_path}: is a directory')


def test_a_log_that_is_not_json_names_its_line(tmp_path):
    log = tmp_path / 'run.json'
    log.write_text('{"lr": 0.1, "step": 1}\nnot json\n')
    one_line_error(call_tool('tools/analysis_tools/analyze_logs.py',
                             'plot_curve', str(log), '--out',
                             str(tmp_path / 'c.png')),
                   f'{log}:2: not a JSON log line', status=1)


def test_an_evaluation_with_nan_scores_stops_with_one_line(
        one_epoch_run, tiny_options, tmp_path):
    """Finite weights that overflow: a classifier scaled to 1e37 gives
    logits of +-inf, so every score is NaN, which the metrics would rank
    as numbers (the checkpoint check only refuses what no training can
    produce: NaN, infinities, negative variances)."""
    from mmpre_inception.checkpoint import load_checkpoint_file
    weights = load_checkpoint_file(
        osp.join(one_epoch_run, 'epoch_1.pth'), mmap=True)['state_dict']
    weights['head.fc.weight'] = weights['head.fc.weight'] * 1e37
    checkpoint = tmp_path / 'overflowing.pth'
    torch.save(weights, checkpoint)
    result = call_tool('tools/test.py', TINY_CONFIG, str(checkpoint),
                       '--work-dir', str(tmp_path), *tiny_options())
    line = one_line_error(result, 'the test scores of ', status=1)
    assert 'are NaN or infinite, so no metric would mean anything' in line
    assert 'accuracy' not in result.stdout


@pytest.mark.slow
def test_resume_names_the_values_the_checkpoint_overrides(one_epoch_run,
                                                          tiny_options,
                                                          tmp_path):
    work_dir = tmp_path / 'work'
    copy_work_dir(one_epoch_run, work_dir)
    checkpoint = str(work_dir / 'epoch_1.pth')
    result = call_tool('tools/train.py', TINY_CONFIG, '--work-dir',
                       str(work_dir), '--resume', checkpoint, *tiny_options(
                           'optim_wrapper.optimizer.lr=0.5',
                           'train_dataloader.batch_size=4'), check=True)
    lines = [line for line in (result.stdout + result.stderr).splitlines()
             if "the checkpoint's optimizer and scheduler state override"
             in line]
    assert len(lines) == 1, result.stdout[-3000:]
    assert 'optim_wrapper.optimizer.lr=0.5 (the run continues with 0.001)' \
        in lines[0]
    assert 'train_dataloader.batch_size=4 (the restored rate and schedule ' \
        'were set for 8)' in lines[0]
    assert f'--cfg-options load_from={checkpoint} without --resume' \
        in lines[0]


def test_the_predictor_takes_paths_and_arrays_of_one_three_and_four_channels(
        one_epoch_run):
    import mmcv
    from pathlib import Path

    from mmpre_inception.apis import ImagePredictor
    predictor = ImagePredictor(TINY_CONFIG,
                               osp.join(one_epoch_run, 'epoch_1.pth'))
    bgr = mmcv.imread(DEMO_IMAGE)
    gray = bgr.mean(axis=2).astype(np.uint8)
    bgra = np.concatenate([bgr, np.full_like(bgr[:, :, :1], 7)], axis=2)
    from_path = predictor(Path(DEMO_IMAGE))[0]
    from_str, from_bgr, from_bgra = predictor([DEMO_IMAGE, bgr, bgra])
    assert from_path['topk'] == from_str['topk'] == from_bgr['topk']
    assert from_bgra['topk'] == from_bgr['topk']  # alpha dropped
    flat, single = predictor([gray, gray[:, :, None]])
    assert flat['topk'] == single['topk']
    names = predictor.cfg.test_dataloader.dataset.metainfo.classes
    assert from_str['class_name'] == names[from_str['label']]
    with pytest.raises(ValueError, match=r'H x W x C with C = 1, 3 or 4'):
        predictor(np.zeros((8, 8, 2), np.uint8))


@pytest.mark.slow
@pytest.mark.parametrize('options, message, named', [
    ([], "its optimizer state is another optimizer's (options ",
     ['betas', "the config's SGD has dampening, momentum, nesterov",
      'optim_wrapper.optimizer.type changed']),
    (['optim_wrapper.optimizer.type=AdamW'], 'it holds the state of 1 '
     "parameter scheduler(s) of another kind than the config's 1 (StepLR): "
     'param_scheduler changed', []),
])
def test_resume_with_another_optimizer_or_schedule_is_one_line(
        one_epoch_run, tiny_options, tmp_path, options, message, named):
    """A checkpoint of AdamW and a cosine schedule, resumed with a config
    that trains with SGD and steps: torch would fail mid-step
    (``KeyError: 'momentum'``) and mmengine would load a cosine's state
    into a step schedule without a word. (The options each optimizer has
    vary with torch's version: only the telling ones are checked.)"""
    work_dir = tmp_path / 'work'
    copy_work_dir(one_epoch_run, work_dir)
    checkpoint = str(work_dir / 'epoch_1.pth')
    config = osp.join(REPO, 'tests', 'configs', 'tiny_shapes_sgd_steps.py')
    result = call_tool('tools/train.py', config, '--work-dir', str(work_dir),
                       '--resume', checkpoint, *tiny_options(*options))
    line = one_line_error(result, status=1)
    assert line.startswith(
        f'error: cannot resume from {checkpoint}: {message}'), line
    for part in named + [f'; start a new run from its weights with '
                         f'--cfg-options load_from={checkpoint} without '
                         '--resume']:
        assert part in line, (part, line)
    assert not (work_dir / 'epoch_2.pth').exists()


# Each numeric option of each tool at 0, negative and huge: one usage line
# naming the option, never a traceback, an empty picture or a run out of
# memory. (tool, arguments before the option, option, value, message)
CONFIG, CKPT, RESULT = TINY_CONFIG, 'x.pth', 'x.pkl'
DEGENERATE = [
    ('tools/analysis_tools/analyze_results.py', [CONFIG, RESULT], '--topk',
     '0', '0: give 1 or more'),
    ('tools/analysis_tools/analyze_results.py', [CONFIG, RESULT],
     '--columns', '-3', '-3: give 1 or more'),
    ('tools/analysis_tools/analyze_results.py', [CONFIG, RESULT],
     '--rescale-factor', '0', '0.0: give a number over 0'),
    ('tools/analysis_tools/confusion_matrix.py', [CONFIG, RESULT],
     '--max-classes', '-3', '-3: give 1 or more'),
    ('tools/visualization/browse_dataset.py', [CONFIG], '--show-number', '0',
     '0: give 1 or more'),
    ('tools/visualization/browse_dataset.py', [CONFIG], '--rescale-factor',
     'inf', 'inf: give a finite number'),
    ('tools/visualization/browse_dataset.py', [CONFIG], '--seed', '-3',
     '-3: give an integer from 0 to 4294967295'),
    ('tools/visualization/vis_cam.py', ['x.jpg', CONFIG], '--display-size',
     '1000000000', '1000000000: give an integer from 1 to 4096'),
    ('tools/visualization/vis_cam.py', ['x.jpg', CONFIG],
     '--target-category', '-3', '-3: give 0 or more'),
    ('tools/dataset_converters/make_synthetic_imagenet.py', ['out'],
     '--image-size', '1000000000', '1000000000: give an integer from 16 to '
     '4096'),
    ('tools/dataset_converters/make_synthetic_imagenet.py', ['out'],
     '--seed', '-3', '-3: give an integer from 0 to 4294967295'),
    ('tools/test.py', [CONFIG, CKPT], '--interval', '0', '0: give 1 or more'),
    ('tools/test.py', [CONFIG, CKPT], '--wait-time', '-3',
     '-3.0: give 0 or more'),
    ('tools/deployment/pytorch2onnx.py', [CONFIG, CKPT], '--shape', '74',
     '74: give an integer from 75 to 4096'),
    ('tools/deployment/pytorch2onnx.py', [CONFIG, CKPT], '--opset', '-3',
     '-3: give 7 or more'),
    ('demo/image_demo.py', ['x.jpg', CONFIG, CKPT], '--topk', '0',
     '0: give 1 or more'),
    ('benchmarks/benchmark.py', [CONFIG], '--warmup', '-3',
     '-3: give 0 or more'),
    ('benchmarks/benchmark.py', [CONFIG], '--shape', '1000000000',
     '1000000000: give an integer from 75 to 4096'),
    ('benchmarks/make_checkpoint.py', ['data', 'out.pth'], '--logit-std',
     '-3', '-3.0: give a number over 0'),
]


@pytest.mark.parametrize('tool, before, option, value, message', DEGENERATE,
                         ids=[f'{t.split("/")[-1]} {o} {v}'
                              for t, _, o, v, _ in DEGENERATE])
def test_degenerate_numbers_are_one_usage_line(tool, before, option, value,
                                               message):
    result = call_tool(tool, *before, option, value)
    line = one_line_error(result, status=2)
    # argparse names an option by all its spellings: -n/--show-number/...
    assert re.search(rf'error: argument (\S+/)?{option}(/\S+)?: '
                     rf'{re.escape(message)}$', line), line


def test_sizes_past_what_a_picture_can_hold_are_one_line(
        evaluated, tiny_options, tmp_path):
    """A rescale factor (or image count) that makes a picture larger than
    16384 pixels a side, and an ONNX opset torch does not export: one line,
    nothing drawn or traced."""
    _, out_file, _ = evaluated
    result = call_tool('tools/analysis_tools/analyze_results.py', CONFIG,
                       out_file, '--out-dir', str(tmp_path / 'g'),
                       '--rescale-factor', '1000', *tiny_options())
    one_line_error(result, '--size 1000000x')
    assert 'from 1 to 16384 each' in result.stderr
    assert not (tmp_path / 'g').exists()
    result = call_tool('tools/analysis_tools/analyze_results.py', CONFIG,
                       out_file, '--out-dir', str(tmp_path / 'g'),
                       '--columns', '1000000000', *tiny_options())
    one_line_error(result, '--columns 1000000000: panels of 0 pixels in a '
                   '1000-pixel row; give fewer columns or a larger '
                   '--rescale-factor')
    assert not (tmp_path / 'g').exists()
    result = call_tool('tools/deployment/pytorch2onnx.py', CONFIG,
                       out_file, '--opset', '1000',
                       '--output-file', str(tmp_path / 'm.onnx'))
    one_line_error(result, '--opset 1000: torch ')
    assert not (tmp_path / 'm.onnx').exists()
