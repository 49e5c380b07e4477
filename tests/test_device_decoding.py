"""--gpu-decode: the device path (data workers read the files and draw the
geometry, the data preprocessor decodes and applies it) gives what the CPU
pipeline gives: the same crop boxes and flips, the same random draws for a
seed, the same pixels (OpenCV's resize arithmetic, libjpeg-turbo in both
decoders), OpenCV itself for the files the device would get wrong, and
the same errors for bad files. It runs on the
CPU here (torchvision decodes on the CPU too); on a GPU only the decoder
changes (nvJPEG)."""
import os.path as osp

import numpy as np
import pytest
import torch
from helpers.tools import MAIN_CONFIG, one_line_error, synthetic
from mmengine.dataset import Compose
from mmpretrain.datasets import CenterCrop, ResizeEdge

from mmpre_inception.datasets import LoadImageFromFile

render_image = synthetic().render_image

OPENCV_PIPELINE = Compose([
    LoadImageFromFile(),
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


def test_grayscale_gives_three_equal_channels(image_folder):
    from mmpre_inception.datasets.device_decoding import decode_on_device
    path = str(image_folder / 'gray.JPEG')
    data = torch.frombuffer(bytearray(open(path, 'rb').read()),
                            dtype=torch.uint8)
    (gray, ), (reason, ) = decode_on_device([data], 'cpu', [path])
    assert reason is None  # a grey JPEG is the device's
    assert torch.equal(gray[0], gray[1]) and torch.equal(gray[1], gray[2])


@pytest.mark.parametrize('orientation', [3, 6, 8])
def test_exif_orientation_is_applied_as_opencv_does(tmp_path, orientation):
    """A camera's portrait photo: landscape pixels and an EXIF tag that
    says turn them. OpenCV (tools/test.py) turns them; so must this path,
    and a GPU batch sends such a file to the CPU (nvJPEG ignores EXIF)."""
    from PIL import Image

    from mmpre_inception.datasets.loading import read_header
    image = render_image(1, 64, np.random.default_rng(0)).resize((600, 400))
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / 'camera.JPEG'
    image.save(path, quality=90, exif=exif.tobytes())
    data = path.read_bytes()
    assert read_header(data).orientation == orientation
    assert read_header(data).decoded_size == (
        (600, 400) if orientation >= 5 else (400, 600))
    plain = tmp_path / 'plain.JPEG'
    image.save(plain, quality=90)
    assert read_header(plain.read_bytes()).orientation == 1
    (cpu, cpu_pre), (device, device_pre) = pipelines('test_dataloader')
    assert torch.equal(run_batch(device, device_pre, [str(path)])['inputs'],
                       run_batch(cpu, cpu_pre, [str(path)])['inputs'])
    assert dict(device_pre.cpu_decoded) == {'EXIF-rotated JPEG': 1}


# --- the device path as --gpu-decode builds it ---


def pipelines(loader: str):
    """The main config's ``loader`` pipeline and data preprocessor, as
    the CPU runs them and as --gpu-decode rewrites them."""
    from mmengine.registry import DefaultScope

    from mmpre_inception.apis import load_config, use_device_decoding
    from mmpre_inception.registry import MODELS
    cpu_cfg = load_config(MAIN_CONFIG)
    device_cfg = load_config(MAIN_CONFIG)
    use_device_decoding(device_cfg, [loader])
    built = []
    with DefaultScope.overwrite_default_scope('mmpre_inception'):
        for cfg, kind in ((cpu_cfg, 'ClsDataPreprocessor'),
                          (device_cfg, None)):
            preprocessor = dict(cfg.data_preprocessor)
            preprocessor.setdefault('type', kind)
            built.append((Compose(cfg[loader].dataset.pipeline),
                          MODELS.build(preprocessor)))
    return built


def run_batch(pipeline, preprocessor, paths, seed=0, training=False):
    from mmengine.dataset import pseudo_collate
    np.random.seed(seed)
    packed = [pipeline(dict(img_path=path, gt_label=0)) for path in paths]
    return preprocessor(pseudo_collate(packed), training)


def test_device_batch_is_the_cpu_batch(image_folder):
    """The test pipeline: the same batch, bit for bit on the CPU (on a GPU
    only nvJPEG differs); CMYK and PNG decoded by OpenCV and counted."""
    (cpu, cpu_pre), (device, device_pre) = pipelines('test_dataloader')
    paths = [str(image_folder / name) for name in
             ('portrait.JPEG', 'landscape.JPEG', 'small.JPEG', 'gray.JPEG',
              'cmyk.JPEG', 'png.JPEG')]
    expected = run_batch(cpu, cpu_pre, paths)
    got = run_batch(device, device_pre, paths)
    assert got['inputs'].shape == expected['inputs'].shape == (6, 3, 299,
                                                               299)
    assert torch.equal(got['inputs'], expected['inputs'])
    assert dict(device_pre.cpu_decoded) == {'CMYK JPEG': 1, 'PNG': 1}
    assert device_pre.decoded == 6


def test_training_draws_equal_the_cpu_pipelines(image_folder):
    """RandomResizedCrop and RandomFlip on the device path: for one seed,
    the crop boxes and flips of mmpretrain's and mmcv's own transforms
    (recorded where they crop), and the same pixels."""
    import mmcv
    (cpu, cpu_pre), (device, device_pre) = pipelines('train_dataloader')
    path = str(image_folder / 'landscape.JPEG')
    boxes, original = [], mmcv.imcrop
    from unittest import mock

    def recording_imcrop(img, bboxes, *args, **kwargs):
        boxes.append(tuple(int(v) for v in bboxes))
        return original(img, bboxes, *args, **kwargs)

    for seed in range(20):
        with mock.patch('mmcv.imcrop', recording_imcrop):
            expected = run_batch(cpu, cpu_pre, [path], seed)
        np.random.seed(seed)
        ops = device(dict(img_path=path, gt_label=0))['data_samples'] \
            .device_ops
        (_, (top, left, height, width)), (_, size) = ops[:2]
        assert boxes[-1] == (left, top, left + width - 1, top + height - 1)
        assert size == (299, 299)
        flipped = expected['data_samples'][0].flip
        assert (ops[2:] == [('flip', 'horizontal')]) == flipped
        got = run_batch(device, device_pre, [path], seed)
        assert torch.equal(got['inputs'], expected['inputs'])


def chi_square(a: np.ndarray, b: np.ndarray, bins: np.ndarray) -> float:
    """Two-sample chi-square statistic of equal-size samples."""
    counts_a, _ = np.histogram(a, bins)
    counts_b, _ = np.histogram(b, bins)
    used = counts_a + counts_b > 0
    return float(((counts_a - counts_b)[used]**2 /
                  (counts_a + counts_b)[used]).sum())


def test_crop_box_distribution_is_mmpretrains():
    """10,000 boxes of RandomResizedCropOnDevice against 10,000 of
    mmpretrain's RandomResizedCrop (other seeds), area fraction and log
    aspect ratio in 10 bins each: chi-square under 27.88, the 0.1% point
    of 9 degrees of freedom."""
    from mmpretrain.datasets import RandomResizedCrop

    from mmpre_inception.datasets import RandomResizedCropOnDevice
    height, width, draws = 375, 500, 10_000
    ours = RandomResizedCropOnDevice(scale=8)
    np.random.seed(1)
    got = []
    for _ in range(draws):
        ops = ours(dict(img_shape=(height, width), device_ops=[]))
        got.append(ops['device_ops'][0][1][2:])
    theirs = RandomResizedCrop(scale=8)
    np.random.seed(2)
    expected = [theirs.rand_crop_params(np.zeros((height, width, 3)))[2:]
                for _ in range(draws)]
    for boxes in (got, expected):
        assert len(boxes) == draws
    got, expected = np.array(got, float), np.array(expected, float)
    area = lambda boxes: boxes[:, 0] * boxes[:, 1] / (height * width)  # noqa
    ratio = lambda boxes: np.log(boxes[:, 1] / boxes[:, 0])  # noqa
    assert chi_square(area(got), area(expected),
                      np.linspace(0.08, 1, 11)) < 27.88
    assert chi_square(ratio(got), ratio(expected),
                      np.linspace(np.log(3 / 4), np.log(4 / 3), 11)) < 27.88


@pytest.mark.parametrize('prob', [0.5, 0.2])
def test_flips_at_the_configured_probability(prob):
    """10,000 draws: the count within 4.5 binomial standard deviations."""
    from mmpre_inception.datasets import RandomFlipOnDevice
    flip = RandomFlipOnDevice(prob=prob, direction='horizontal')
    np.random.seed(0)
    flips = sum(bool(flip(dict(img_shape=(10, 10), device_ops=[]))
                     ['device_ops']) for _ in range(10_000))
    assert abs(flips - 10_000 * prob) < 4.5 * np.sqrt(10_000 * prob *
                                                      (1 - prob))


def test_resize_and_crop_boxes_match_the_cpu_transforms():
    """ResizeEdge and CenterCrop on coordinate-coded images: the device
    ops' sizes are the resized image's and their box holds exactly the
    pixels CenterCrop keeps."""
    from mmcv.transforms import CenterCrop
    from mmpretrain.datasets import ResizeEdge

    from mmpre_inception.datasets import CenterCropOnDevice, ResizeEdgeOnDevice
    for height, width in [(375, 500), (500, 375), (299, 299), (180, 250),
                          (1001, 342), (342, 999), (77, 1200), (2400, 1600)]:
        image = np.zeros((height, width, 3), np.uint8)
        resized = ResizeEdge(scale=342)(dict(img=image))['img']
        device = ResizeEdgeOnDevice(scale=342)(dict(
            img_shape=(height, width), device_ops=[]))
        assert device['device_ops'] == [('resize', resized.shape[:2])]
        coded = np.arange(resized.shape[0] * resized.shape[1]).reshape(
            resized.shape[:2])
        kept = CenterCrop(crop_size=299)(dict(img=coded))['img']
        device = CenterCropOnDevice(crop_size=299)(device)
        _, (_, (top, left, h, w)) = device['device_ops']
        np.testing.assert_array_equal(coded[top:top + h, left:left + w],
                                      kept)
        assert device['img_shape'] == kept.shape


def test_fallbacks_and_bad_files_give_what_the_cpu_path_gives(tmp_path):
    """EXIF-rotated and CMYK JPEGs and a PNG named .JPEG are decoded by
    OpenCV: the CPU path's exact pixels. Truncated, over-budget and
    non-image files are refused with the CPU loader's message, or skipped
    with skip_unreadable."""
    from PIL import Image

    from mmpre_inception.datasets import (LoadImageBytesChecked,
                                          UnreadableImageError, read_image)
    from mmpre_inception.datasets.device_decoding import decode_on_device
    image = render_image(2, 64, np.random.default_rng(1)).resize((300, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    image.save(tmp_path / 'rotated.JPEG', quality=90, exif=exif.tobytes())
    image.convert('CMYK').save(tmp_path / 'cmyk.JPEG', quality=90)
    image.save(tmp_path / 'png.JPEG', format='PNG')
    paths = [str(tmp_path / name)
             for name in ('rotated.JPEG', 'cmyk.JPEG', 'png.JPEG')]
    load = LoadImageBytesChecked()
    encoded = [torch.from_numpy(load(dict(img_path=p))['img_bytes'].copy())
               for p in paths]
    images, reasons = decode_on_device(encoded, 'cpu', paths)
    assert reasons == ['EXIF-rotated JPEG', 'CMYK JPEG', 'PNG']
    for path, got in zip(paths, images):
        np.testing.assert_array_equal(got.permute(1, 2, 0).numpy(),
                                      read_image(path))
    # Orientation 6 turns the 300x200 pixels upright: the loader's size
    # (the geometry's input) is the decoded one, and so is the batch.
    assert images[0].shape[1:] == (300, 200)
    assert load(dict(img_path=paths[0]))['img_shape'] == (300, 200)
    (cpu, cpu_pre), (device, device_pre) = pipelines('test_dataloader')
    assert torch.equal(run_batch(device, device_pre, paths)['inputs'],
                       run_batch(cpu, cpu_pre, paths)['inputs'])

    data = (tmp_path / 'rotated.JPEG').read_bytes()
    (tmp_path / 'truncated.JPEG').write_bytes(data[:len(data) // 2])
    (tmp_path / 'text.JPEG').write_bytes(b'not an image at all')
    big = Image.new('L', (9000, 8000))
    big.save(tmp_path / 'big.JPEG', quality=10)
    cpu_loader = LoadImageFromFile()
    for name in ('truncated.JPEG', 'text.JPEG', 'big.JPEG'):
        path = str(tmp_path / name)
        with pytest.raises(UnreadableImageError) as cpu_error:
            cpu_loader(dict(img_path=path))
        with pytest.raises(UnreadableImageError) as device_error:
            load(dict(img_path=path))
        assert str(device_error.value) == str(cpu_error.value)
        assert LoadImageBytesChecked(skip_unreadable=True)(
            dict(img_path=path)) is None


def test_a_rewritten_config_refuses_cpu_only_steps():
    from mmpre_inception.apis import load_config, use_device_decoding
    from mmpre_inception.errors import ConfigError
    cfg = load_config(osp.join(osp.dirname(MAIN_CONFIG),
                               'inception_v3_8xb64_mixup_randaug_cos_in1k.py'))
    with pytest.raises(ConfigError, match=r'^--gpu-decode: train_dataloader'
                       r'.dataset.pipeline step RandAugment runs on the CPU '
                       r"only \(torchvision's RandAugment is not "):
        use_device_decoding(cfg, ['train_dataloader'])


def test_resize_is_opencvs_bit_for_bit():
    """Down and up, odd sizes, both axes: cv2.resize's INTER_LINEAR."""
    import cv2

    from mmpre_inception.datasets.device_decoding import resize_bilinear
    rng = np.random.default_rng(0)
    for (height, width), size in [((375, 500), (342, 456)),
                                  ((180, 250), (342, 475)),
                                  ((1001, 77), (299, 23)),
                                  ((64, 64), (299, 299)),
                                  ((299, 301), (17, 400))]:
        image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        expected = cv2.resize(image, size[::-1],
                              interpolation=cv2.INTER_LINEAR)
        got = resize_bilinear(torch.from_numpy(image).permute(2, 0, 1),
                              size)
        np.testing.assert_array_equal(got.permute(1, 2, 0).numpy(),
                                      expected)


@pytest.mark.slow
def test_gpu_decode_tools_give_the_cpu_runs_results(one_epoch_run, evaluated,
                                                    tiny_options, tmp_path):
    """tools/train.py and tools/test.py --gpu-decode on the CPU: the same
    weights after an epoch (same crops, flips and pixels) and the same
    predictions as the runs without it; the saved config says what ran."""
    from helpers.tools import TINY_CONFIG, call_tool

    from mmpre_inception.checkpoint import load_checkpoint_file
    from mmpre_inception.evaluation import load_results
    work_dir = tmp_path / 'train'
    call_tool('tools/train.py', TINY_CONFIG, '--work-dir', str(work_dir),
              '--gpu-decode', *tiny_options('train_cfg.max_epochs=1'),
              check=True)
    ours = load_checkpoint_file(str(work_dir / 'epoch_1.pth'),
                                mmap=True)['state_dict']
    theirs = load_checkpoint_file(osp.join(one_epoch_run, 'epoch_1.pth'),
                                  mmap=True)['state_dict']
    assert ours.keys() == theirs.keys()
    for key in ours:
        assert torch.equal(ours[key], theirs[key]), key
    _, cpu_out, _ = evaluated
    out = str(tmp_path / 'preds.pkl')
    result = call_tool('tools/test.py', TINY_CONFIG,
                       osp.join(one_epoch_run, 'epoch_1.pth'), '--work-dir',
                       str(tmp_path / 'test'), '--gpu-decode', '--out', out,
                       *tiny_options(), check=True)
    for got, expected in zip(load_results(out), load_results(cpu_out)):
        assert torch.equal(got['pred_score'], expected['pred_score'])
    assert 'accuracy/top1' in result.stdout
    saved, = (tmp_path / 'test').glob('*.py')
    text = saved.read_text()
    assert 'LoadImageBytesChecked' in text
    assert 'DeviceDecodeDataPreprocessor' in text


def test_gpu_decode_refusals_are_one_line_through_the_tools(tmp_path):
    """What --gpu-decode cannot do stops the command before any work, in
    one line with the usage status."""
    from helpers.tools import MIXUP_CONFIG, call_tool
    result = call_tool('tools/train.py', MIXUP_CONFIG, '--gpu-decode',
                       '--work-dir', 'unused')
    assert one_line_error(result, status=2).startswith(
        'error: --gpu-decode: train_dataloader.dataset.pipeline step '
        'RandAugment runs on the CPU only')
    checkpoint = tmp_path / 'never_read.pth'  # refused before reading it
    checkpoint.write_bytes(b'')
    result = call_tool('tools/test.py', MAIN_CONFIG, str(checkpoint),
                       '--gpu-decode', '--tta', '--work-dir',
                       str(tmp_path / 'work'))
    assert one_line_error(result, status=2) == (
        'error: --gpu-decode with --tta: the test-time views are made on '
        'the CPU; give one of them')
