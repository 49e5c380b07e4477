"""The paper's evaluation protocols: multi-crop and flip test-time
augmentation (the crops against slicing by hand, the configs' views, the
mean softmax against each view run alone) and TF-slim's preprocessing
(against TensorFlow's own ops)."""
import contextlib
import io
import logging
import os.path as osp
import pickle

import cv2
import mmcv
import numpy as np
import pytest
import torch
from helpers.tools import (REPO, SAMPLE_DIR, TINY_CONFIG, call_tool,
                           one_line_error)
from mmcv.transforms import CenterCrop, Compose

from mmpre_inception.datasets import PositionedCrop, SquareCrop
from mmpre_inception.utils import load_config

MULTI_CROP = osp.join(REPO, 'configs', 'multi_crop')


def image(height: int, width: int) -> np.ndarray:
    rng = np.random.default_rng(height * 1000 + width)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.mark.parametrize('height,width', [(300, 400), (401, 300), (5, 5)])
@pytest.mark.parametrize('position', ['first', 'centre', 'last'])
def test_square_crop_takes_the_square_at_each_end_and_the_middle(
        height, width, position):
    img = image(height, width)
    side, spare = min(height, width), abs(height - width)
    start = {'first': 0, 'centre': round(spare / 2), 'last': spare}[position]
    expected = img[:, start:start + side] if width >= height else \
        img[start:start + side]
    result = SquareCrop(position)(dict(img=img))
    assert result['img'].shape == (side, side, 3)
    assert result['img_shape'] == (side, side)
    np.testing.assert_array_equal(result['img'], expected)


@pytest.mark.parametrize('height,width', [(342, 456), (500, 342), (299, 299)])
def test_positioned_crops_are_the_corners_centre_and_whole(height, width):
    img, size = image(height, width), 299
    corners = {
        'top_left': img[:size, :size],
        'top_right': img[:size, width - size:],
        'bottom_left': img[height - size:, :size],
        'bottom_right': img[height - size:, width - size:],
        # the single-crop evaluation's view, exactly
        'centre': CenterCrop(crop_size=size)(dict(img=img))['img'],
        'whole': cv2.resize(img, (size, size),
                            interpolation=cv2.INTER_LINEAR),
    }
    for position, expected in corners.items():
        crop = PositionedCrop(position, size)(dict(img=img.copy()))['img']
        assert crop.shape == (size, size, 3), position
        np.testing.assert_array_equal(crop, expected, err_msg=position)


def test_bad_positions_and_small_images_are_named():
    with pytest.raises(ValueError, match=r"^SquareCrop position='left': use "
                       r'one of first, centre, last$'):
        SquareCrop('left')
    with pytest.raises(ValueError, match=r"^PositionedCrop position='center'"
                       r': use one of top_left, .*, centre, whole$'):
        PositionedCrop('center', 299)
    with pytest.raises(ValueError, match=r'^PositionedCrop: a 300x200 image '
                       r'is smaller than crop_size=299; resize it first'):
        PositionedCrop('top_left', 299)(dict(img=image(200, 300)))


def views_of(config: str, img: np.ndarray) -> list:
    """The ``tta_pipeline`` of ``config`` after loading, on ``img``."""
    cfg = load_config(osp.join(MULTI_CROP, config))
    from mmpre_inception import register_all_modules
    register_all_modules()
    from mmpre_inception.registry import TRANSFORMS
    augment = Compose([TRANSFORMS.build(step)
                       for step in cfg.tta_pipeline[1:]])
    packed = augment(dict(img=img, img_shape=img.shape[:2],
                          ori_shape=img.shape[:2]))
    return [view.permute(1, 2, 0).numpy() for view in packed['inputs']]


@pytest.mark.parametrize('config,count', [
    ('inception_v3_10crop_in1k.py', 10), ('inception_v3_12crop_in1k.py', 12),
    ('inception_v3_144crop_in1k.py', 144)])
def test_multi_crop_configs_make_distinct_views(config, count):
    views = views_of(config, image(375, 500))
    assert len(views) == count
    assert all(view.shape == (299, 299, 3) for view in views)
    assert len({view.tobytes() for view in views}) == count


@pytest.mark.parametrize('height,width', [(375, 500), (333, 250), (61, 40)])
def test_144_crops_are_googlenets_views(height, width):
    """Every view recomputed by hand: resize to each scale (cv2 bilinear,
    as ResizeEdge), the three squares, the six crops, each mirrored; for
    landscape, portrait and an image smaller than the crop."""
    img = image(height, width)
    views = {view.tobytes() for view in views_of(
        'inception_v3_144crop_in1k.py', img)}
    expected = set()
    for short in (342, 384, 427, 470):
        long = int(short * max(height, width) / min(height, width))
        size = (long, short) if width >= height else (short, long)
        resized = cv2.resize(img, size, interpolation=cv2.INTER_LINEAR)
        for start in (0, round((long - short) / 2), long - short):
            square = resized[:, start:start + short] if width >= height \
                else resized[start:start + short]
            end = short - 299
            centre = round(end / 2)
            crops = [square[:299, :299], square[:299, end:],
                     square[end:, :299], square[end:, end:],
                     square[centre:centre + 299, centre:centre + 299],
                     cv2.resize(square, (299, 299),
                                interpolation=cv2.INTER_LINEAR)]
            for crop in crops:
                expected.add(np.ascontiguousarray(crop).tobytes())
                expected.add(np.ascontiguousarray(crop[:, ::-1]).tobytes())
    assert len(expected) == 144
    assert views == expected


def test_the_mean_of_view_softmax_matches_each_view_run_alone(
        one_epoch_run):
    """MeanSoftmaxTTA runs 3 images x 10 views 4 crops at a time; the
    reference runs every view as its own batch through mmpretrain's
    AverageClsScoreTTA (mmengine's one-forward-per-view loop)."""
    from mmengine.dataset import pseudo_collate
    from mmpretrain.models import AverageClsScoreTTA
    from mmpretrain.structures import DataSample

    from mmpre_inception.apis import init_model
    from mmpre_inception.models import MeanSoftmaxTTA

    cfg = load_config(TINY_CONFIG)
    model = init_model(cfg, osp.join(one_epoch_run, 'epoch_1.pth'), 'cpu')
    rng = torch.Generator().manual_seed(0)
    batch = pseudo_collate([{
        'inputs': [torch.randint(0, 256, (3, 80, 80), generator=rng,
                                 dtype=torch.uint8) for _ in range(10)],
        'data_samples': [DataSample().set_gt_label(image_index)
                         for _ in range(10)]} for image_index in range(3)])
    ours = MeanSoftmaxTTA(model, crops_per_forward=4).test_step(batch)
    theirs = AverageClsScoreTTA(model).test_step(batch)
    for index, (mine, reference) in enumerate(zip(ours, theirs)):
        # probabilities: fp32 rounding of logits of order 10 through exp
        torch.testing.assert_close(mine.pred_score, reference.pred_score,
                                   rtol=0, atol=1e-5)
        assert mine.pred_label.item() == mine.pred_score.argmax().item()
        assert mine.gt_label.item() == index
    per_view = torch.stack([
        model.test_step(dict(inputs=[view], data_samples=[DataSample()]))[0]
        .pred_score for view in (views[0] for views in batch['inputs'])])
    # logits -> softmax of each view on its own, then the mean
    torch.testing.assert_close(ours[0].pred_score, per_view.mean(0),
                               rtol=0, atol=1e-5)


def test_tta_option_averages_the_image_and_its_mirror(
        one_epoch_run, tiny_options, shapes_root, tmp_path):
    """tools/test.py --tta on a config without tta_pipeline: the test
    pipeline and its mirror image, as mmpretrain's --tta; the scores
    match the network run on each image and on its flipped copy."""
    out = str(tmp_path / 'preds.pkl')
    checkpoint = osp.join(one_epoch_run, 'epoch_1.pth')
    result = call_tool('tools/test.py', TINY_CONFIG, checkpoint, '--tta',
                       '--work-dir', str(tmp_path), '--out', out,
                       *tiny_options('test_dataloader.dataset.indices=4'))
    assert result.returncode == 0, result.stderr
    with open(out, 'rb') as f:
        predictions = pickle.load(f)
    assert len(predictions) == 4

    from mmpre_inception.apis import init_model
    cfg = load_config(TINY_CONFIG)
    model = init_model(cfg, checkpoint, 'cpu')
    root = osp.join(shapes_root, 'val')
    names = [line.split()[0] for line in open(
        osp.join(shapes_root, 'meta', 'val.txt'))][:4]
    for name, prediction in zip(names, predictions):
        img = mmcv.imread(osp.join(root, name))
        img = mmcv.imresize(img, (80, 80))  # square data: ResizeEdge 80
        both = [torch.from_numpy(np.ascontiguousarray(view)).permute(2, 0, 1)
                for view in (img, img[:, ::-1])]
        scores = torch.stack([
            s.pred_score for s in model.test_step(
                dict(inputs=both, data_samples=None))]).mean(0)
        torch.testing.assert_close(prediction['pred_score'], scores,
                                   rtol=0, atol=1e-5)


@pytest.mark.parametrize('height,width', [
    (375, 500), (500, 333), (299, 299), (1000, 37), (64, 64)])
def test_tf_slim_crop_and_resize_match_tensorflow(height, width):
    """tf.image.central_crop(0.875) and TF1's resize_bilinear to 299 on
    float pixels, as TF-slim's preprocess_for_eval, against ours."""
    os = pytest.importorskip('os')
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
    tf = pytest.importorskip('tensorflow', reason='TensorFlow is optional '
                             '(requirements/optional.txt)')
    from mmpre_inception.datasets import CentralCropResize
    img = image(height, width)
    crop = tf.image.central_crop(tf.constant(img, tf.float32), 0.875)
    expected = tf.compat.v1.image.resize_bilinear(
        crop[None], [299, 299], align_corners=False)[0].numpy()
    ours = CentralCropResize(0.875, 299)(dict(img=img))['img']
    assert ours.dtype == np.float32 and ours.shape == (299, 299, 3)
    # three float32 interpolations of values up to 255: a few ulp of 255
    np.testing.assert_allclose(ours, expected, rtol=0,
                               atol=6 * 255 * np.finfo(np.float32).eps)


def test_tf_slim_preprocessing_on_real_images():
    """The same on real ImageNet photographs (decoded once, by mmcv, for
    both): well within one pixel level of TensorFlow's."""
    import glob
    paths = sorted(glob.glob(osp.join(SAMPLE_DIR, 'val', '*.JPEG')))[:6]
    if not paths:
        pytest.skip(f'no ImageNet sample images in {SAMPLE_DIR}')
    os = pytest.importorskip('os')
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
    tf = pytest.importorskip('tensorflow', reason='TensorFlow is optional '
                             '(requirements/optional.txt)')
    from mmpre_inception.datasets import CentralCropResize
    for path in paths:
        img = mmcv.imread(path)
        crop = tf.image.central_crop(tf.constant(img, tf.float32), 0.875)
        expected = tf.compat.v1.image.resize_bilinear(
            crop[None], [299, 299], align_corners=False)[0].numpy()
        ours = CentralCropResize(0.875, 299)(dict(img=img))['img']
        np.testing.assert_allclose(ours, expected, rtol=0,
                                   atol=6 * 255 * np.finfo(np.float32).eps,
                                   err_msg=path)


def test_tf_slim_crop_box_keeps_equal_margins():
    from mmpre_inception.datasets.tf_slim import central_crop_box
    # 500 * 0.875 = 437.5: margins of 31 leave 438, as TensorFlow's
    assert central_crop_box(375, 500, 0.875) == (23, 31, 329, 438)
    assert central_crop_box(299, 299, 1.0) == (0, 0, 299, 299)


def test_keras_config_evaluates_as_tf_slim():
    cfg = load_config(osp.join(REPO, 'configs', 'tensorflow',
                               'inception_v3_keras_in1k.py'))
    steps = [step['type'].__name__
             for step in cfg.test_dataloader.dataset.pipeline]
    assert steps == ['LoadImageFromFile', 'CentralCropResize',
                     'PackInputs']
    assert cfg.test_dataloader.dataset.pipeline[1]['fraction'] == 0.875
    # (x / 255 - 0.5) * 2, as TF-slim scales the resized pixels
    assert cfg.data_preprocessor.mean == [127.5] * 3
    assert cfg.data_preprocessor.std == [127.5] * 3


@contextlib.contextmanager
def capture_log():
    """What mmengine's current logger prints while the block runs."""
    from mmengine.logging import MMLogger
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def validation_set(root, names):
    (root / 'meta').mkdir()
    (root / 'meta' / 'val.txt').write_text(''.join(
        f'{name} {label}\n' for label, name in enumerate(names)))
    return str(root)


def test_exclude_file_leaves_out_the_devkits_blacklist(tmp_path):
    """The devkit lists 1-based image numbers; the annotation file's order
    does not matter."""
    from mmpre_inception.datasets import ImageNet
    names = [f'ILSVRC2012_val_{number:08d}.JPEG' for number in
             (3, 1, 2, 6, 4, 5)]
    root = validation_set(tmp_path, names)
    (tmp_path / 'blacklist.txt').write_text('2\n5\n\n50000\n')
    with capture_log() as log:
        dataset = ImageNet(data_root=root, ann_file='meta/val.txt',
                           data_prefix='val', exclude_file='blacklist.txt')
    assert log.getvalue().strip().endswith(
        f'{tmp_path}/blacklist.txt: left out 2 of 6 images, 4 remain; 1 '
        'listed images are not in the annotation file, e.g. '
        'ILSVRC2012_val_00050000.JPEG')
    kept = [osp.basename(dataset.get_data_info(index)['img_path'])
            for index in range(len(dataset))]
    assert kept == [f'ILSVRC2012_val_{number:08d}.JPEG'
                    for number in (3, 1, 6, 4)]
    assert [int(dataset.get_data_info(index)['gt_label'])
            for index in range(4)] == [0, 1, 3, 4]
    everything = ImageNet(data_root=root, ann_file='meta/val.txt',
                          data_prefix='val')
    assert len(everything) == 6


def test_exclude_file_errors_name_the_file_and_line(tmp_path):
    from mmpre_inception.datasets import AnnotationError, ImageNet
    root = validation_set(tmp_path, ['ILSVRC2012_val_00000001.JPEG',
                                     'n01440764_tench.JPEG'])
    (tmp_path / 'bad.txt').write_text('1\nILSVRC2012_val_00000002\n')
    (tmp_path / 'good.txt').write_text('1\n')
    options = dict(data_root=root, ann_file='meta/val.txt',
                   data_prefix='val')
    with pytest.raises(AnnotationError, match=(
            rf"^{tmp_path}/bad.txt:2: 'ILSVRC2012_val_00000002' is not an "
            r'image number; an exclude_file lists the 1-based numbers')):
        ImageNet(**options, exclude_file='bad.txt')
    with pytest.raises(AnnotationError, match=(
            rf'^{tmp_path}/meta/val.txt: .*n01440764_tench.JPEG is not '
            r'named ILSVRC2012_val_<number>.JPEG, so exclude_file .*'
            r'remove exclude_file for other data sets$')):
        ImageNet(**options, exclude_file='good.txt')
    with pytest.raises(AnnotationError, match=(
            rf'^exclude_file not found: {tmp_path}/nope.txt; it comes with '
            'the ILSVRC devkit')):
        ImageNet(**options, exclude_file='nope.txt')


def scored(index, label, scores):
    return dict(sample_idx=index, gt_label=torch.tensor([label]),
                pred_score=torch.tensor(scores))


def test_ensemble_scores_are_the_mean_of_its_members_in_data_set_order():
    from mmpre_inception.evaluation import average_scores
    one = [scored(1, 0, [0.2, 0.8]), scored(0, 1, [0.9, 0.1])]
    two = [scored(0, 1, [0.1, 0.9]), scored(1, 0, [0.6, 0.4])]
    merged = average_scores([one, two], ['a.py', 'b.py'])
    assert [sample['sample_idx'] for sample in merged] == [0, 1]
    torch.testing.assert_close(merged[0]['pred_score'],
                               torch.tensor([0.5, 0.5]))
    torch.testing.assert_close(merged[1]['pred_score'],
                               torch.tensor([0.4, 0.6]))
    assert merged[1]['pred_label'].tolist() == [1]
    assert merged[0]['gt_label'].tolist() == [1]


@pytest.mark.parametrize('other,message', [
    ([scored(0, 1, [0.5, 0.5])],
     r'^b.py scored 1 images, a.py 2, not the same ones: every member'),
    ([scored(0, 1, [0.5, 0.5]), scored(2, 0, [0.5, 0.5])],
     r'^b.py scored 2 images, a.py 2, not the same ones'),
    ([scored(0, 0, [0.5, 0.5]), scored(1, 0, [0.5, 0.5])],
     r'^b.py labels image 0 \[0\], a.py \[1\]: the members must test the '
     r'same annotation file$'),
    ([scored(0, 1, [0.5, 0.3, 0.2]), scored(1, 0, [0.5, 0.3, 0.2])],
     r'^b.py scores 3 classes, a.py 2: an ensemble needs members with the '
     r'same classes$')])
def test_ensemble_members_must_score_the_same_images(other, message):
    from mmpre_inception.evaluation import average_scores
    one = [scored(0, 1, [0.9, 0.1]), scored(1, 0, [0.2, 0.8])]
    with pytest.raises(ValueError, match=message):
        average_scores([one, other], ['a.py', 'b.py'])


def test_ensemble_option_needs_pairs(tmp_path):
    result = call_tool('tools/test.py', TINY_CONFIG, TINY_CONFIG,
                       '--ensemble', TINY_CONFIG)
    assert one_line_error(result, status=2) == (
        f'error: --ensemble {TINY_CONFIG}: give pairs of a config and a '
        f'checkpoint; {TINY_CONFIG} has no partner')
