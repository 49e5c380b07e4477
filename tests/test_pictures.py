"""The analysis and visualization tools: each writes a PNG of the size
asked for, and the data behind each picture is checked against its source
(the JSON log, the scheduler's rule, a recount of the --out file, the
images on disk)."""
import ast
import csv
import glob
import json
import os.path as osp
import pickle

import mmcv
import numpy as np
import pytest
import torch
from helpers.tools import (MAIN_CONFIG, MIXUP_CONFIG, REPO, TINY_CONFIG,
                           call_tool, one_line_error, png_size, tool_module)

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def run_log(one_epoch_run):
    """The 1-epoch run's JSON log, read line by line (the reference)."""
    path, = glob.glob(osp.join(one_epoch_run, '*', 'vis_data', '2*.json'))
    with open(path) as f:
        entries = [json.loads(line) for line in f]
    return path, entries


# --- analyze_logs.py ---


def test_plot_curve_draws_the_logged_values(run_log, tmp_path):
    path, entries = run_log
    out = tmp_path / 'curves.png'
    keys = ['loss', 'loss_aux', 'lr', 'accuracy/top1']
    call_tool('tools/analysis_tools/analyze_logs.py', 'plot_curve', path,
              path, '--legend', 'run A', 'run B', '--keys', *keys, '--x',
              'iter', '--size', '800x900', '--out', str(out), check=True)
    assert png_size(out) == (800, 900)

    from mmpretrain.utils import load_json_log
    tool = tool_module('tools/analysis_tools/analyze_logs.py')
    train = [e for e in entries if 'loss' in e]
    val = [e for e in entries if 'accuracy/top1' in e]
    # The tiny run: 40 training images in batches of 8, logged every step.
    assert [e['step'] for e in train] == [1, 2, 3, 4, 5]
    for x, scale in (('iter', 1), ('epoch', 5)):
        fig = tool.plot_curves([load_json_log(path)] * 2, ['A', 'B'], keys,
                               x, '800x900')
        assert [ax.get_ylabel() for ax in fig.axes] == keys
        for ax, key in zip(fig.axes, keys):
            source = val if key.startswith('accuracy') else train
            assert [line.get_label() for line in ax.lines] == ['A', 'B']
            xs, ys = ax.lines[1].get_xdata(), ax.lines[1].get_ydata()
            np.testing.assert_array_equal(ys, [e[key] for e in source])
            # Validation after epoch 1 sits at its last iteration.
            expected_x = [5 * e['step'] for e in source] if source is val \
                else [e['step'] for e in source]
            np.testing.assert_allclose(xs, np.array(expected_x) / scale)


def test_plot_curve_and_cal_train_time_errors_and_timing(run_log, tmp_path):
    path, entries = run_log
    result = call_tool('tools/analysis_tools/analyze_logs.py', 'plot_curve',
                       path, '--keys', 'nope', '--out', str(tmp_path / 'x'))
    one_line_error(result, '--keys nope: not in the logs; logged '
                   'keys: accuracy/top1 accuracy/top5 data_time grad_norm '
                   'loss loss_aux loss_cls lr time')
    result = call_tool('tools/analysis_tools/analyze_logs.py', 'plot_curve',
                       'missing.json', '--out', str(tmp_path / 'x'))
    one_line_error(result, 'log not found: missing.json')
    result = call_tool('tools/analysis_tools/analyze_logs.py',
                       'cal_train_time', path, '--include-outliers',
                       check=True)
    mean = np.mean([e['time'] for e in entries if 'loss' in e])
    assert f'average iter time: {mean:.4f} s/iter' in result.stdout


# --- confusion_matrix.py ---


def recount(out_file: str, num_classes: int) -> np.ndarray:
    with open(out_file, 'rb') as f:
        samples = pickle.load(f)
    matrix = np.zeros((num_classes, num_classes), dtype=int)
    for sample in samples:
        matrix[int(sample['gt_label'][0]), int(sample['pred_label'][0])] += 1
    return matrix


def test_confusion_matrix_counts_equal_a_recount(evaluated, tmp_path,
                                                 tiny_options):
    _, out_file, _ = evaluated
    png, table = tmp_path / 'cm.png', tmp_path / 'cm.csv'
    result = call_tool('tools/analysis_tools/confusion_matrix.py',
                       TINY_CONFIG, out_file, '--show-path', str(png),
                       '--out', str(table), '--size', '700x600',
                       *tiny_options(), check=True)
    assert png_size(png) == (700, 600)
    expected = recount(out_file, 10)
    with open(table) as f:
        rows = list(csv.reader(f))
    names = ['circle', 'square', 'triangle', 'cross', 'star',
             'circle_outline', 'square_outline', 'triangle_outline',
             'cross_outline', 'star_outline']
    assert rows[0] == ['true \\ predicted'] + names
    assert [row[0] for row in rows[1:]] == names
    np.testing.assert_array_equal(
        np.array([row[1:] for row in rows[1:]], dtype=int), expected)
    assert f'{np.trace(expected)} of 20 correct' in result.stdout

    tool = tool_module('tools/analysis_tools/confusion_matrix.py')
    fig = tool.plot_matrix(expected, names, np.arange(10), False, '700x600')
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(),
                                  expected)
    fig = tool.plot_matrix(expected, names, np.arange(10), True, '700x600')
    totals = np.maximum(expected.sum(1, keepdims=True), 1)
    np.testing.assert_allclose(fig.axes[0].images[0].get_array(),
                               expected / totals)


def test_confusion_matrix_shows_the_classes_with_most_errors():
    tool = tool_module('tools/analysis_tools/confusion_matrix.py')
    matrix = np.diag([5, 5, 5, 5, 5])
    matrix[1, 3] = 4  # 1 taken for 3 four times
    matrix[4, 0] = 1
    np.testing.assert_array_equal(tool.shown_classes(matrix, 2), [1, 3])
    np.testing.assert_array_equal(tool.shown_classes(matrix, 9),
                                  np.arange(5))
    assert tool.most_confused(matrix, 3) == [(1, 3), (4, 0)]


# --- analyze_results.py ---


def test_galleries_hold_the_most_confident_successes_and_failures(
        evaluated, tmp_path, tiny_options):
    _, out_file, _ = evaluated
    call_tool('tools/analysis_tools/analyze_results.py', TINY_CONFIG,
              out_file, '--out-dir', str(tmp_path), '--topk', '3',
              *tiny_options(), check=True)
    with open(out_file, 'rb') as f:
        samples = pickle.load(f)
    scores = [float(s['pred_score'][int(s['pred_label'][0])])
              for s in samples]
    right = [int(s['pred_label'][0]) == int(s['gt_label'][0])
             for s in samples]
    by_score = sorted(range(len(samples)), key=lambda i: -scores[i])
    with open(tmp_path / 'galleries.json') as f:
        listing = json.load(f)
    assert [e['sample'] for e in listing['success']] == \
        [i for i in by_score if right[i]][:3]
    assert [e['sample'] for e in listing['failure']] == \
        [i for i in by_score if not right[i]][:3]
    for entry in listing['success'] + listing['failure']:
        assert entry['img_path'] == samples[entry['sample']]['img_path']
        assert entry['score'] == pytest.approx(scores[entry['sample']])
    for kind in ('success', 'failure'):
        # One row of five 200-pixel panels under a title.
        assert png_size(tmp_path / f'{kind}.png') == (1000, 300)

    from mmpre_inception.analysis.predictions import load_predictions
    tool = tool_module('tools/analysis_tools/analyze_results.py')
    predictions = load_predictions(out_file)
    chosen = [e['sample'] for e in listing['failure'] + listing['success']]
    fig = tool.gallery(predictions, chosen, [str(i) for i in range(10)],
                       'all', 5, None)
    shown = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(shown) == len(chosen)
    for index, pixels in zip(chosen, shown):
        np.testing.assert_array_equal(
            pixels, mmcv.imread(samples[index]['img_path'],
                                channel_order='rgb'))


def test_result_tools_name_a_bad_file(tmp_path):
    (tmp_path / 'bad.pkl').write_bytes(pickle.dumps({'not': 'a list'}))
    for tool, extra in result_file_tools(tmp_path):
        result = call_tool(f'tools/analysis_tools/{tool}', TINY_CONFIG,
                           str(tmp_path / 'bad.pkl'), *extra, cwd=REPO)
        one_line_error(result, f'{tmp_path}/bad.pkl: not a '
                       'tools/test.py --out file', status=1)


def result_file_tools(tmp_path):
    return (('confusion_matrix.py', ['--show-path', str(tmp_path / 'x.png')]),
            ('analyze_results.py', ['--out-dir', str(tmp_path / 'x')]))


def test_result_tools_refuse_a_file_of_another_config(evaluated, tmp_path,
                                                      tiny_options):
    """The 10-class demo's predictions with the 1000-class main config;
    a file with a class too many, or with fewer samples than the config's
    test set: one line naming what differs, no picture of the wrong
    classes."""
    from mmpre_inception.evaluation import dump_results, load_results
    _, out_file, _ = evaluated
    samples = load_results(out_file)
    wider = [dict(s, pred_score=torch.cat([s['pred_score'],
                                           torch.zeros(1)]))
             for s in samples]
    dump_results(wider, str(tmp_path / 'wider.pkl'))
    dump_results(samples[:12], str(tmp_path / 'fewer.pkl'))
    remedy = 'give the config (and --cfg-options) the results were made with'
    cases = [
        (MAIN_CONFIG, out_file, [], f'{out_file} holds scores of 10 '
         "classes, but the config's model has 1000 (model.head.num_classes)"),
        (TINY_CONFIG, str(tmp_path / 'wider.pkl'), [],
         f'{tmp_path}/wider.pkl holds scores of 11 classes, but the '
         "config's model has 10 (model.head.num_classes)"),
        (TINY_CONFIG, str(tmp_path / 'fewer.pkl'), tiny_options(),
         f'{tmp_path}/fewer.pkl holds 12 samples, but the config\'s '
         'test_dataloader.dataset has 20'),
    ]
    for tool, extra in result_file_tools(tmp_path):
        for config, path, options, message in cases:
            result = call_tool(f'tools/analysis_tools/{tool}', config, path,
                               *extra, *options)
            one_line_error(result, f'{message}: {remedy}')
    assert not (tmp_path / 'x.png').exists()
    assert not (tmp_path / 'x').exists()


# --- browse_dataset.py ---


def test_browse_dataset_has_one_panel_per_training_step(shapes_root,
                                                        tmp_path):
    out = tmp_path / 'browse.png'
    result = call_tool(
        'tools/visualization/browse_dataset.py', MAIN_CONFIG,
        '-n', '2', '--out', str(out), '--cfg-options',
        f'train_dataloader.dataset.data_root={shapes_root}', check=True)
    # Load, RandomResizedCrop, RandomFlip (PackInputs only converts).
    assert 'original, RandomResizedCrop, RandomFlip' in result.stdout
    assert png_size(out) == (600, 50 + 2 * 230)

    from mmpre_inception.utils import load_config
    tool = tool_module('tools/visualization/browse_dataset.py')
    cfg = load_config(MAIN_CONFIG, {
        'train_dataloader.dataset.data_root': shapes_root})
    browsed = tool.browse(cfg, 2, seed=0)
    assert browsed['steps'] == ['original', 'RandomResizedCrop',
                                'RandomFlip']
    for index, row in zip(browsed['indices'], browsed['images']):
        assert len(row) == 3
        path = osp.join(shapes_root, 'train',
                        open(osp.join(shapes_root, 'meta', 'train.txt'))
                        .read().split()[2 * index])
        np.testing.assert_array_equal(
            row[0], mmcv.imread(path, channel_order='rgb'))
        assert row[1].shape == row[2].shape == (299, 299, 3)
    fig = tool.plot_grid(browsed, [str(i) for i in range(10)], None)
    assert len(fig.axes) == 2 * 3


def test_browse_dataset_shows_mixup_cutmix_and_soft_labels(shapes_root):
    from mmpre_inception.utils import load_config
    tool = tool_module('tools/visualization/browse_dataset.py')
    cfg = load_config(MIXUP_CONFIG, {
        'train_dataloader.dataset.data_root': shapes_root})
    browsed = tool.browse(cfg, 3, seed=1)
    assert browsed['steps'] == ['original', 'RandomResizedCrop',
                                'RandomFlip', 'RandAugment',
                                'RandomErasing', 'Mixup/CutMix (batch)']
    for row, soft in zip(browsed['images'], browsed['soft_labels']):
        assert len(row) == 6 and row[-1].shape == (299, 299, 3)
        # A mix of two images: two classes whose weights add to 1.
        assert 1 <= len(soft) <= 2
        assert sum(w for _, w in soft) == pytest.approx(1, abs=1e-5)
    # Label smoothing is the loss's, not the mix's: the mixed scores are
    # the batch's one-hot labels mixed.
    assert any(len(soft) == 2 for soft in browsed['soft_labels'])


# --- vis_cam.py ---


def test_vis_cam_maps_have_the_image_size_and_vary(one_epoch_run,
                                                   shapes_root, tmp_path):
    pytest.importorskip('pytorch_grad_cam',
                        reason='grad-cam is optional '
                        '(requirements/optional.txt)')
    image = osp.join(shapes_root, 'val', 'val_star_0000.JPEG')
    checkpoint = osp.join(one_epoch_run, 'epoch_1.pth')
    out = tmp_path / 'cam.png'
    result = call_tool('tools/visualization/vis_cam.py', image, TINY_CONFIG,
                       checkpoint, '--target-layers', 'backbone.Mixed_6e',
                       '--method', 'GradCAM', 'GradCAM++', '--save-path',
                       str(out), check=True)
    assert 'gradcam, gradcam++ at backbone.Mixed_6e' in result.stdout
    # The image as the network saw it (80 x 80) and two overlays.
    assert png_size(out) == (3 * 80, 80)

    from mmpre_inception.apis import init_model
    from mmpre_inception.utils import load_config
    tool = tool_module('tools/visualization/vis_cam.py')
    cfg = load_config(TINY_CONFIG)
    model = init_model(cfg, checkpoint)
    inputs, shown = tool.network_input(model, cfg, image)
    assert shown.shape == (80, 80, 3)
    for layer in ('backbone.Mixed_5d', 'backbone.Mixed_6e'):
        maps, category, score = tool.class_activation_maps(
            model, inputs, tool.find_layers(model, [layer]),
            ['gradcam', 'eigencam'], category=3)
        assert category == 3
        with torch.no_grad():
            logits = model(inputs, mode='tensor')
        assert score == pytest.approx(float(logits.softmax(1)[0, 3]))
        for cam in maps.values():
            assert cam.shape == (80, 80)
            assert cam.min() >= 0 and cam.max() <= 1 and cam.std() > 0.01


def test_vis_cam_names_the_stages_when_a_layer_is_wrong(shapes_root):
    pytest.importorskip('pytorch_grad_cam',
                        reason='grad-cam is optional '
                        '(requirements/optional.txt)')
    image = osp.join(shapes_root, 'val', 'val_star_0000.JPEG')
    # At 80 x 80 the last stage is 1 x 1: its map would be constant.
    result = call_tool('tools/visualization/vis_cam.py', image, TINY_CONFIG,
                       '--out', 'x.png')
    one_line_error(result, 'the gradcam map is constant: the target '
                   'layer gives 1x1 activations for this 80x80 input')
    result = call_tool('tools/visualization/vis_cam.py', image, TINY_CONFIG,
                       '--target-layers', 'backbone.Mixed_8a', '--out',
                       'x.png')
    one_line_error(result, '--target-layers backbone.Mixed_8a: no '
                   'such module; the backbone\'s stages are '
                   'backbone.Conv2d_1a_3x3, ')


# --- TensorBoard ---


def test_the_documented_tensorboard_line_logs_scalars(tmp_path):
    """docs/analysis.md's config line, on top of the main config, gives a
    visualizer whose scalars TensorBoard reads back."""
    pytest.importorskip('tensorboard', reason='tensorboard is optional '
                        '(requirements/optional.txt)')
    import re

    from mmengine.registry import VISUALIZERS, DefaultScope
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    with open(osp.join(REPO, 'docs', 'analysis.md')) as f:
        block, = [b for b in re.findall(r'```python\n(.*?)```', f.read(),
                                        re.S)
                  if 'TensorboardVisBackend' in b]
    config = tmp_path / 'with_tensorboard.py'
    config.write_text(
        'from mmengine.config import read_base\n\nwith read_base():\n'
        '    from mmpre_inception.configs.inception_v3_8xb32_in1k import *\n'
        '\n' + block)
    from mmpre_inception.utils import load_config
    cfg = load_config(str(config))
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        visualizer = VISUALIZERS.build(dict(
            cfg.visualizer, save_dir=str(tmp_path / 'vis'),
            name='tensorboard_doc_test'))
    try:
        visualizer.add_scalars({'loss': 1.5, 'accuracy/top1': 40.0}, step=3)
        visualizer.close()
    finally:
        type(visualizer)._instance_dict.pop('tensorboard_doc_test', None)
    event_file, = glob.glob(str(tmp_path / 'vis' / '**' /
                                'events.out.tfevents.*'), recursive=True)
    events = EventAccumulator(event_file)
    events.Reload()
    loss, = events.Scalars('loss')
    assert (loss.step, loss.value) == (3, 1.5)
    # The local JSON backend stays: analyze_logs.py reads its file.
    with open(glob.glob(str(tmp_path / 'vis' / '**' / 'scalars.json'),
                        recursive=True)[0]) as f:
        assert json.loads(f.readline())['loss'] == 1.5


def test_vis_cam_without_grad_cam_says_what_to_install(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, 'pytorch_grad_cam', None)
    result = call_tool('tools/visualization/vis_cam.py', 'x.jpg',
                       TINY_CONFIG, '--out', 'x.png')
    one_line_error(result, 'vis_cam.py needs the grad-cam package: '
                   'pip install grad-cam')


@pytest.mark.parametrize('tool', [
    'tools/analysis_tools/analyze_logs.py',
    'tools/analysis_tools/confusion_matrix.py',
    'tools/analysis_tools/analyze_results.py',
    'tools/visualization/browse_dataset.py',
    'tools/visualization/vis_cam.py',
])
def test_help_shows_the_docstring_example(tool):
    result = call_tool(tool, '--help')
    assert result.returncode == 0
    with open(osp.join(REPO, tool)) as f:
        doc = ast.get_docstring(ast.parse(f.read()))
    example = doc.split('Example:\n')[1].strip().splitlines()[0]
    assert example.strip() in result.stdout


def test_galleries_read_moved_images_from_data_root(tmp_path):
    """--data-root: the saved path's class folder and name under the new
    root, or the name alone."""
    tool = tool_module('tools/analysis_tools/analyze_results.py')
    (tmp_path / 'star').mkdir()
    (tmp_path / 'star' / 'a.jpg').write_bytes(b'')
    (tmp_path / 'b.jpg').write_bytes(b'')
    assert tool.image_path('/gone/val/star/a.jpg', str(tmp_path)) == \
        str(tmp_path / 'star' / 'a.jpg')
    assert tool.image_path('/gone/val/circle/b.jpg', str(tmp_path)) == \
        str(tmp_path / 'b.jpg')
    assert tool.image_path('/kept/c.jpg', None) == '/kept/c.jpg'
