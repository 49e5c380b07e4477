"""The torchvision (GPU-capable) evaluation pipeline stays within a pixel
level of the OpenCV one that tools/test.py uses. It runs on the CPU here;
on a GPU only the decoder changes (nvJPEG)."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.dataset import Compose
from mmpretrain.datasets import CenterCrop, ResizeEdge
from torch.utils.data import DataLoader

from mmpre_inception.datasets import LoadImageFromFileChecked, render_image
from mmpre_inception.analysis.torch_decoding import (EncodedImages,
                                                     collate_encoded,
                                                     decode_batch)

OPENCV_PIPELINE = Compose([
    LoadImageFromFileChecked(),
    ResizeEdge(scale=342, edge='short'),
    CenterCrop(crop_size=299)
])


def opencv_rgb(path: str) -> torch.Tensor:
    bgr = OPENCV_PIPELINE(dict(img_path=path))['img']
    return torch.from_numpy(np.ascontiguousarray(bgr[..., ::-1])).permute(
        2, 0, 1)


@pytest.fixture(scope='module')
def image_folder(tmp_path_factory):
    """Portrait, landscape, smaller-than-crop, grayscale, CMYK and a PNG
    named .JPEG, with their labels in an annotation file."""
    root = tmp_path_factory.mktemp('decoding')
    rng = np.random.default_rng(0)
    specs = [('portrait', (400, 613), 'RGB', 'JPEG'),
             ('landscape', (801, 500), 'RGB', 'JPEG'),
             ('small', (250, 180), 'RGB', 'JPEG'),
             ('gray', (500, 375), 'L', 'JPEG'),
             ('cmyk', (375, 500), 'CMYK', 'JPEG'),
             ('png', (420, 360), 'RGB', 'PNG')]
    lines = []
    for label, (name, size, mode, fmt) in enumerate(specs):
        image = render_image(label, 64, rng).resize(size)
        image.convert(mode).save(root / f'{name}.JPEG', format=fmt, quality=90)
        lines.append(f'{name}.JPEG {label}\n')
    (root / 'val.txt').write_text(''.join(lines))
    return root


def test_matches_opencv_pipeline_within_a_level(image_folder):
    dataset = EncodedImages(str(image_folder / 'val.txt'), str(image_folder))
    loader = DataLoader(dataset, batch_size=6, collate_fn=collate_encoded)
    encoded, labels = next(iter(loader))
    assert labels.tolist() == list(range(6))
    got = decode_batch(encoded, 'cpu')
    assert got.shape == (6, 3, 299, 299) and got.dtype == torch.uint8
    for image, (path, _) in zip(got, dataset.samples):
        expected = opencv_rgb(path)
        difference = (image.int() - expected.int()).abs()
        # CMYK -> RGB conversion itself rounds differently in libjpeg and
        # OpenCV.
        worst, mean = (2, 1.0) if 'cmyk' in path else (1, 0.5)
        assert difference.max() <= worst, path
        assert difference.float().mean() < mean, path


def test_grayscale_gives_three_equal_channels(image_folder):
    dataset = EncodedImages(str(image_folder / 'val.txt'), str(image_folder))
    gray = decode_batch([dataset[3][0]], 'cpu')[0]
    assert torch.equal(gray[0], gray[1]) and torch.equal(gray[1], gray[2])


def test_small_image_is_resized_up_then_cropped(image_folder):
    """250x180: short edge 180 -> 342 (so 475x342), crop 299x299."""
    dataset = EncodedImages(str(image_folder / 'val.txt'), str(image_folder))
    assert decode_batch([dataset[2][0]], 'cpu', short_edge=342,
                        crop=299).shape == (1, 3, 299, 299)
    assert decode_batch([dataset[2][0]], 'cpu', short_edge=100,
                        crop=120).shape == (1, 3, 100, 120)


def test_annotation_paths_join_the_prefix(image_folder):
    dataset = EncodedImages(str(image_folder / 'val.txt'), 'some/prefix')
    assert dataset.samples[0] == (osp.join('some/prefix', 'portrait.JPEG'), 0)


@pytest.mark.parametrize('orientation', [3, 6, 8])
def test_exif_orientation_is_applied_as_opencv_does(tmp_path, orientation):
    """A camera's portrait photo: landscape pixels and an EXIF tag that
    says turn them. OpenCV (tools/test.py) turns them; so must this path,
    and a GPU batch sends such a file to the CPU (nvJPEG ignores EXIF)."""
    from PIL import Image

    from mmpre_inception.analysis.torch_decoding import exif_rotated
    image = render_image(1, 64, np.random.default_rng(0)).resize((600, 400))
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / 'camera.JPEG'
    image.save(path, quality=90, exif=exif.tobytes())
    data = path.read_bytes()
    assert exif_rotated(data)
    plain = tmp_path / 'plain.JPEG'
    image.save(plain, quality=90)
    assert not exif_rotated(plain.read_bytes())
    (got, ) = decode_batch([data], 'cpu')
    expected = opencv_rgb(str(path))
    assert (got.int() - expected.int()).abs().max() <= 1
