"""Inference without a Runner: mmpre_inception.apis and demo/image_demo.py."""
import os.path as osp

import numpy as np
import pytest
import torch
from helpers.tools import TINY_CONFIG, call_tool, synthetic
from mmpretrain.datasets.categories import IMAGENET_CATEGORIES

from mmpre_inception.apis import ImagePredictor
from mmpre_inception.checkpoint import CheckpointError
from mmpre_inception.datasets import read_image

SHAPES = synthetic().SHAPES


@pytest.fixture(scope='module')
def val_images(shapes_root):
    with open(osp.join(shapes_root, 'meta', 'val.txt')) as f:
        entries = [line.split() for line in f]
    return [(osp.join(shapes_root, 'val', name), int(label))
            for name, label in entries]


def test_classifier_matches_the_test_tool(one_epoch_run, val_images,
                                          tiny_options, tmp_path):
    checkpoint = osp.join(one_epoch_run, 'epoch_1.pth')
    classifier = ImagePredictor(TINY_CONFIG, checkpoint)
    paths = [path for path, _ in val_images]
    results = classifier(paths, topk=3)
    out = str(tmp_path / 'preds.pkl')
    call_tool('tools/test.py', TINY_CONFIG, checkpoint, '--work-dir',
              str(tmp_path), '--out', out, *tiny_options(), check=True)
    import pickle
    with open(out, 'rb') as f:
        predictions = pickle.load(f)
    for result, prediction in zip(results, predictions):
        torch.testing.assert_close(
            result['score'],
            float(prediction['pred_score'].max()), rtol=1e-4, atol=1e-6)
        assert result['label'] == int(prediction['pred_label'][0])
        # Names come from the checkpoint's dataset_meta.
        assert result['class_name'] == SHAPES[result['label']]
        scores = [score for _, score, _ in result['topk']]
        assert len(scores) == 3 and scores == sorted(scores, reverse=True)
    # An array gives what its file gives.
    array_result = classifier(read_image(paths[0]), topk=3)[0]
    assert [label for label, _, _ in array_result['topk']] == \
        [label for label, _, _ in results[0]['topk']]
    torch.testing.assert_close(array_result['score'], results[0]['score'])


def test_imagenet_names_for_1000_classes(tmp_path):
    from mmengine.config import Config
    cfg = Config.fromfile(TINY_CONFIG)
    cfg.model.head.num_classes = 1000
    cfg.data_preprocessor.num_classes = 1000
    classifier = ImagePredictor(cfg)
    image = np.random.default_rng(0).integers(0, 256, (90, 120, 3),
                                              dtype=np.uint8)
    (result, ) = classifier(image)
    assert result['class_name'] == IMAGENET_CATEGORIES[result['label']]
    assert len(result['topk']) == 5


def test_unsafe_checkpoint_is_refused(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'x': np.random.default_rng}, path)
    with pytest.raises(CheckpointError, match='refusing to load'):
        ImagePredictor(TINY_CONFIG, str(path))


@pytest.mark.slow
def test_image_demo_prints_top5(one_epoch_run, val_images):
    path, _ = val_images[0]
    result = call_tool('demo/image_demo.py', path, TINY_CONFIG,
                       osp.join(one_epoch_run, 'epoch_1.pth'), check=True)
    lines = result.stdout.strip().splitlines()
    assert [line.split('.')[0] for line in lines] == ['1', '2', '3', '4',
                                                      '5']
    assert all(line.split()[-1] in SHAPES for line in lines)


def test_shipped_demo_image_is_a_star_the_demo_model_can_read(one_epoch_run):
    """demo/star.jpg, which the documented image_demo command uses, is our
    own rendering of the shapes data set's 'star' class."""
    result = call_tool('demo/image_demo.py', osp.join('demo', 'star.jpg'),
                       TINY_CONFIG, osp.join(one_epoch_run, 'epoch_1.pth'),
                       check=True)
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 5
    assert all(line.split()[-1] in SHAPES for line in lines)


# --- arrays of every kind a user hands over ---


@pytest.fixture(scope='module')
def predictor(one_epoch_run):
    return ImagePredictor(TINY_CONFIG, osp.join(one_epoch_run, 'epoch_1.pth'))


def scores_of(predictor, image, **options):
    (result, ) = predictor(image, topk=10, **options)
    return sorted((label, score) for label, score, _ in result['topk'])


def test_other_dtypes_score_as_the_8_bit_image(predictor, val_images,
                                               tmp_path):
    """uint16 as a 16-bit PNG of the same picture decodes (OpenCV, 8 bits
    by /256), float in 0..1 as PIL's and torchvision's convention has it,
    RGB when told so: each scores as the 8-bit BGR array, not as a
    saturated or near-black image."""
    import cv2
    bgr = read_image(val_images[0][0])
    expected = scores_of(predictor, bgr)
    sixteen = bgr.astype(np.uint16) * 257 + 100  # every 8-bit level, spread
    png = str(tmp_path / 'sixteen.png')
    cv2.imwrite(png, sixteen)
    assert scores_of(predictor, sixteen) == scores_of(predictor, png)
    assert scores_of(predictor, bgr.astype(np.float32) / 255) == expected
    assert scores_of(predictor, bgr.astype(np.float64) / 255) == expected
    assert scores_of(predictor, np.ascontiguousarray(bgr[:, :, ::-1]),
                     channel_order='rgb') == expected
    # BGRA and a 2-D grayscale array, as mmcv's loader decodes such files
    alpha = np.dstack([bgr, np.full(bgr.shape[:2], 7, np.uint8)])
    assert scores_of(predictor, alpha) == expected
    gray = bgr[:, :, 1]
    assert scores_of(predictor, gray) == scores_of(
        predictor, np.repeat(gray[:, :, None], 3, axis=2))


@pytest.mark.parametrize('image, message', [
    (np.zeros((8, 8, 3), bool), 'an image array of dtype bool: give uint8 '
     '(0..255), uint16 (0..65535) or float (0..1)'),
    (np.zeros((8, 8, 3), np.int64), 'an image array of dtype int64: give'),
    (np.full((8, 8, 3), 255.0, np.float32), 'a float32 image must hold '
     'values in 0..1 (PIL and torchvision convention), got 255..255'),
    (np.full((8, 8, 3), np.nan), 'a float64 image must hold values in 0..1'),
    (np.zeros((0, 0, 3), np.uint8), 'an empty image array (shape (0, 0, '
     '3))'),
    (np.zeros((8, 8, 2), np.uint8), 'an image array must be H x W or H x W '
     'x C with C = 1, 3 or 4, got shape (8, 8, 2)'),
    (None, 'an image of type NoneType: give a file path or a decoded numpy '
     'array'),
    (b'\xff\xd8\xff', 'an image of type bytes: decode it first'),
    (torch.zeros(3, 8, 8), 'an image of type Tensor: convert it with '
     'tensor.permute(1, 2, 0).cpu().numpy()'),
    ([], 'no images given ([]): give a file path, an array, or a list of '
     'them'),
])
def test_what_cannot_be_an_image_is_refused_in_one_line(predictor, image,
                                                        message):
    with pytest.raises(ValueError) as error:
        predictor(image)
    assert str(error.value).startswith(message), str(error.value)
    assert '\n' not in str(error.value)


@pytest.mark.parametrize('options, message', [
    (dict(topk=0), 'topk=0: give an integer of 1 or more'),
    (dict(channel_order='hsv'), "channel_order 'hsv': give 'bgr'"),
])
def test_bad_options_are_refused_in_one_line(predictor, options, message):
    with pytest.raises(ValueError, match=message.replace('(', r'\(')):
        predictor(np.zeros((8, 8, 3), np.uint8), **options)
