"""The test pipeline on real ImageNet images
(../shared/data/imagenet-sample)."""
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


def test_gpu_decode_gives_the_cpu_batches_and_top1_on_the_sample():
    """--gpu-decode's path on real JPEGs, on the CPU, against the CPU
    pipeline: every image of the sample that is not a plain RGB JPEG
    (grayscale, CMYK, EXIF-rotated, other formats: the routing cases) and
    every fourth of the rest. The same batches bit for bit (both decoders
    are libjpeg-turbo, the resize is OpenCV's arithmetic), so the same
    top-1 for every image with a well-conditioned network (BatchNorm from
    the data, logits of std 5); on a GPU only nvJPEG's pixels differ."""
    from helpers.numerics import calibrate
    from test_device_decoding import pipelines, run_batch

    from mmpre_inception.datasets.loading import read_header

    with open(osp.join(SAMPLE_DIR, 'meta', 'val.txt')) as f:
        everything = [osp.join(SAMPLE_DIR, 'val', line.rsplit(' ', 1)[0])
                      for line in f]
    assert len(everything) == 1000

    def plain(path):
        with open(path, 'rb') as f:
            header = read_header(f.read())
        return header is not None and header.format == 'JPEG' and \
            header.mode == 'RGB' and header.orientation == 1

    odd = [path for path in everything if not plain(path)]
    assert odd  # the sample holds grayscale and CMYK JPEGs
    paths = odd + [path for path in everything[::4] if path not in odd]
    (cpu, cpu_pre), (device, device_pre) = pipelines('test_dataloader')
    cpu_batches, device_batches = [], []
    for start in range(0, len(paths), 50):
        chunk = paths[start:start + 50]
        cpu_batches.append(run_batch(cpu, cpu_pre, chunk)['inputs'])
        device_batches.append(run_batch(device, device_pre,
                                        chunk)['inputs'])
    expected, got = torch.cat(cpu_batches), torch.cat(device_batches)
    assert got.shape == expected.shape == (len(paths), 3, 299, 299)
    assert torch.equal(got, expected)
    torch.manual_seed(0)
    network = torch.nn.Sequential(
        torch.nn.Conv2d(3, 32, 8, stride=8), torch.nn.BatchNorm2d(32),
        torch.nn.ReLU(), torch.nn.Conv2d(32, 64, 3, stride=2),
        torch.nn.BatchNorm2d(64), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
        torch.nn.BatchNorm1d(64), torch.nn.Linear(64, 1000))
    calibrate(network, expected[:200], network[-1])
    with torch.no_grad():
        # Centred features and no class bias: the logits tell the images
        # apart (std 5 over classes) instead of favouring one class.
        network[-2].bias.zero_()
        network[-1].bias.zero_()
        network[-1].weight *= 5 / network(expected[:200]).std()
        logits = network(expected), network(got)
    top1 = [scores.argmax(1) for scores in logits]
    assert len(top1[0].unique()) > len(paths) // 10  # not one for all
    assert torch.equal(*top1)
