"""The test pipeline on real ImageNet images (../shared/data/imagenet-sample)."""
import os.path as osp

import pytest
import torch
from helpers.tools import REPO, SAMPLE_DIR
from mmengine.config import Config
from mmengine.registry import DefaultScope
from PIL import Image

import mmpre_inception.models  # noqa: F401
from mmpre_inception.registry import DATASETS

pytestmark = pytest.mark.skipif(
    not osp.isfile(osp.join(SAMPLE_DIR, 'meta', 'val.txt')),
    reason=f'ImageNet sample not found at {SAMPLE_DIR}')


def test_grayscale_images_become_three_equal_channels():
    cfg = Config.fromfile(osp.join(REPO, 'configs',
                                   'inception_v3_8xb32_in1k.py'))
    dataset_cfg = cfg.test_dataloader.dataset
    dataset_cfg.data_root = SAMPLE_DIR
    with DefaultScope.overwrite_default_scope('mmpre_inception'):
        dataset = DATASETS.build(dataset_cfg)
    assert len(dataset) == 1000
    grayscale = [i for i in range(len(dataset))
                 if Image.open(dataset.get_data_info(i)['img_path']).mode
                 == 'L']
    assert grayscale, 'the sample is documented to hold grayscale JPEGs'
    for index in grayscale[:3]:
        inputs = dataset[index]['inputs']
        assert tuple(inputs.shape) == (3, 299, 299)
        assert torch.equal(inputs[0], inputs[1])
        assert torch.equal(inputs[1], inputs[2])


def test_torchvision_decoding_within_a_level_of_opencv():
    """The GPU-capable pipeline (benchmark.py --decoder torchvision) on
    real JPEGs: the first 100 sample images, on the CPU."""
    from test_torch_decoding import opencv_rgb

    from mmpre_inception.analysis.torch_decoding import (EncodedImages,
                                                         decode_batch)
    dataset = EncodedImages(
        osp.join(SAMPLE_DIR, 'meta', 'val.txt'), osp.join(SAMPLE_DIR, 'val'))
    worst, means = 0, []
    for index in range(100):
        encoded, _ = dataset[index]
        got = decode_batch([encoded], 'cpu')[0]
        difference = (got.int() - opencv_rgb(dataset.samples[index][0]).int()
                      ).abs()
        worst = max(worst, difference.max().item())
        means.append(difference.float().mean().item())
    assert worst <= 2
    assert sum(means) / len(means) < 0.3
