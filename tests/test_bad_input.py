"""Bad images, annotation files and options give clear errors."""
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from helpers.tools import TINY_CONFIG, call_tool, one_line_error
from mmcv.transforms import LoadImageFromFile as MMCVLoadImageFromFile
from PIL import Image

from mmpre_inception.datasets import (AnnotationError,
                                      LoadImageFromFile,
                                      UnreadableImageError,
                                      check_annotation_file, read_image)
from mmpre_inception.utils import ConfigError, load_config


def photo(seed: int = 0, size=(48, 64)) -> np.ndarray:
    """A smooth RGB test image (JPEG-friendly)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    return cv2.resize(small, size[::-1], interpolation=cv2.INTER_CUBIC)


@pytest.fixture
def odd_images(tmp_path):
    """Readable images in awkward forms, each in a .JPEG file."""
    rgb = photo()
    paths = {}
    paths['rgb'] = str(tmp_path / 'rgb.JPEG')
    Image.fromarray(rgb).save(paths['rgb'], quality=95)
    paths['grayscale'] = str(tmp_path / 'gray.JPEG')
    Image.fromarray(rgb).convert('L').save(paths['grayscale'])
    paths['cmyk'] = str(tmp_path / 'cmyk.JPEG')
    Image.fromarray(rgb).convert('CMYK').save(paths['cmyk'])
    paths['png_named_jpeg'] = str(tmp_path / 'png.JPEG')
    Image.fromarray(rgb).save(paths['png_named_jpeg'], format='PNG')
    paths['16bit_png'] = str(tmp_path / 'deep.JPEG')
    ok, encoded = cv2.imencode('.png', rgb.astype(np.uint16) * 257)
    assert ok
    with open(paths['16bit_png'], 'wb') as f:
        f.write(encoded.tobytes())
    return paths, rgb


@pytest.fixture
def broken_images(tmp_path, odd_images):
    paths, _ = odd_images
    with open(paths['rgb'], 'rb') as f:
        data = f.read()
    broken = {
        'truncated': (data[:len(data) // 2], 'truncated JPEG'),
        'text': (b'this is not an image\n', 'not an image'),
        'empty': (b'', 'empty file'),
    }
    out = {}
    for name, (content, reason) in broken.items():
        path = str(tmp_path / f'{name}.JPEG')
        with open(path, 'wb') as f:
            f.write(content)
        out[name] = (path, reason)
    out['missing'] = (str(tmp_path / 'missing.JPEG'), 'file not found')
    return out


def test_awkward_images_load_as_three_channels_like_mmcv(odd_images):
    paths, rgb = odd_images
    mmcv_loader = MMCVLoadImageFromFile()
    for name, path in paths.items():
        image = read_image(path)
        assert image.shape == (48, 64, 3) and image.dtype == np.uint8, name
        expected = mmcv_loader(dict(img_path=path))['img']
        np.testing.assert_array_equal(image, expected, err_msg=name)
    # The content decides the format: a PNG named .JPEG is lossless.
    np.testing.assert_array_equal(read_image(paths['png_named_jpeg']),
                                  rgb[..., ::-1])
    # cv2 wrote the 16-bit file from the array as BGR; 65535 -> 255.
    np.testing.assert_array_equal(read_image(paths['16bit_png']), rgb)
    gray = read_image(paths['grayscale'])
    assert (gray[..., 0] == gray[..., 1]).all()


def test_broken_images_name_the_file_and_the_reason(broken_images):
    for name, (path, reason) in broken_images.items():
        with pytest.raises(UnreadableImageError) as error:
            read_image(path)
        assert str(error.value).startswith(f'cannot read image {path}: '
                                           f'{reason}'), name


def exif_jpeg(rgb: np.ndarray) -> bytes:
    """A JPEG whose EXIF block holds a complete thumbnail JPEG, so an
    end-of-image marker stands before the main image's scan."""
    import io
    thumbnail = io.BytesIO()
    Image.fromarray(rgb[:8, :8]).save(thumbnail, format='JPEG')
    exif = Image.Exif()
    exif[0x010E] = 'with thumbnail'  # ImageDescription
    data = io.BytesIO()
    Image.fromarray(rgb).save(data, format='JPEG', exif=exif.tobytes())
    main = data.getvalue()
    # An APP1 segment carrying the thumbnail, right after SOI.
    payload = b'Exif\0\0' + thumbnail.getvalue()
    app = b'\xff\xe1' + (len(payload) + 2).to_bytes(2, 'big') + payload
    return main[:2] + app + main[2:]


@pytest.mark.parametrize('trailer', [b'\n', b'\0' * 4096,
                                     b'CAMERA-TRAILER\xff\xd8 data'])
def test_jpeg_with_bytes_after_its_end_decodes_like_opencv(tmp_path,
                                                           trailer):
    rgb = photo()
    path = tmp_path / 'trailer.JPEG'
    Image.fromarray(rgb).save(path, quality=95)
    path.write_bytes(path.read_bytes() + trailer)
    expected = cv2.imread(str(path), cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(read_image(str(path)), expected)


def test_truncated_jpeg_with_a_thumbnail_is_still_refused(tmp_path):
    """The thumbnail's own end-of-image marker does not hide a cut."""
    data = exif_jpeg(photo())
    complete, cut = tmp_path / 'complete.JPEG', tmp_path / 'cut.JPEG'
    complete.write_bytes(data)
    cut.write_bytes(data[:len(data) - 200])
    assert read_image(str(complete)).shape == (48, 64, 3)
    with pytest.raises(UnreadableImageError, match='truncated JPEG'):
        read_image(str(cut))


def jpeg_declaring(height: int, width: int) -> bytes:
    """A small real JPEG whose frame header is rewritten to declare
    ``height`` x ``width``: what a decompression bomb's header says."""
    import io
    data = io.BytesIO()
    Image.fromarray(photo()).save(data, format='JPEG')
    data = bytearray(data.getvalue())
    frame = data.index(b'\xff\xc0')
    data[frame + 5:frame + 7] = height.to_bytes(2, 'big')
    data[frame + 7:frame + 9] = width.to_bytes(2, 'big')
    return bytes(data)


@pytest.mark.parametrize('height, width, reason', [
    (20000, 20000, '20000x20000 is 400,000,000 pixels, over the limit'),
    (1, 5000, '5000x1 has an aspect ratio over the limit'),
])
def test_pixel_budget_refuses_from_the_header(tmp_path, height, width,
                                              reason):
    path = tmp_path / 'bomb.JPEG'
    path.write_bytes(jpeg_declaring(height, width))
    with pytest.raises(UnreadableImageError) as error:
        read_image(str(path))
    assert str(error.value).startswith(f'cannot read image {path}: {reason}')
    assert LoadImageFromFile(skip_unreadable=True)(
        dict(img_path=str(path))) is None


def test_pixel_budget_reads_png_and_other_headers(tmp_path):
    rgb = photo(size=(30, 3000))  # aspect ratio 100
    for suffix in ('png', 'bmp', 'webp'):
        path = tmp_path / f'strip.{suffix}'
        Image.fromarray(rgb).save(path)
        with pytest.raises(UnreadableImageError, match='3000x30 has an '
                           'aspect ratio over the limit of 40'):
            read_image(str(path))
        # The limits are options of the loader.
        loaded = LoadImageFromFile(max_aspect_ratio=None)(
            dict(img_path=str(path)))
        assert loaded['img'].shape == (30, 3000, 3)
        with pytest.raises(UnreadableImageError, match='over the limit of '
                           '50,000'):
            LoadImageFromFile(max_pixels=50_000,
                              max_aspect_ratio=None)(
                dict(img_path=str(path)))


def test_skipping_loader_logs_and_drops(broken_images):
    path, _ = broken_images['truncated']
    assert LoadImageFromFile(skip_unreadable=True)(
        dict(img_path=path)) is None
    with pytest.raises(UnreadableImageError, match='truncated JPEG'):
        LoadImageFromFile()(dict(img_path=path))


@pytest.fixture
def shapes_copy(shapes_root, tmp_path):
    root = str(tmp_path / 'data')
    shutil.copytree(shapes_root, root)
    return root


def val_images(root):
    with open(osp.join(root, 'meta', 'val.txt')) as f:
        return [line.split()[0] for line in f]


def data_options(root, *extra):
    return ['--cfg-options', *[
        f'{loader}.dataset.data_root={root}'
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader')], *extra]


@pytest.mark.slow
def test_tools_stop_on_a_broken_image_with_one_line(shapes_copy, one_epoch_run,
                                                    tmp_path):
    names = val_images(shapes_copy)
    broken = osp.join(shapes_copy, 'val', names[3])
    with open(broken, 'r+b') as f:
        f.truncate(200)
    checkpoint = osp.join(one_epoch_run, 'epoch_1.pth')
    # In a data-loader worker, as real runs do.
    result = call_tool('tools/test.py', TINY_CONFIG, checkpoint,
                       '--work-dir', str(tmp_path / 'test'),
                       *data_options(shapes_copy,
                                     'test_dataloader.num_workers=1'))
    assert one_line_error(result, status=1) == (
        f'error: cannot read image {broken}: truncated JPEG (no '
        'end-of-image marker after 200 bytes)')

    result = call_tool('tools/test.py', TINY_CONFIG, checkpoint,
                       '--skip-unreadable', '--work-dir',
                       str(tmp_path / 'skip'), *data_options(shapes_copy))
    assert result.returncode == 0, result.stderr[-3000:]
    assert '(scored 19 samples, skipped 1 unreadable)' in result.stdout
    assert f'skipped: cannot read image {broken}' in result.stdout + \
        result.stderr


@pytest.mark.slow
def test_training_skips_unreadable_images_when_asked(shapes_copy, tmp_path):
    with open(osp.join(shapes_copy, 'meta', 'train.txt')) as f:
        first = f.readline().split()[0]
    broken = osp.join(shapes_copy, 'train', first)
    with open(broken, 'wb') as f:
        f.write(b'not an image')
    options = data_options(shapes_copy, 'train_cfg.max_epochs=1')
    result = call_tool('tools/train.py', TINY_CONFIG, '--no-validate',
                       '--work-dir', str(tmp_path / 'strict'), *options)
    assert one_line_error(result, status=1) == (
        f'error: cannot read image {broken}: not an image (starts with '
        f'bytes {b"not an i".hex()})')
    result = call_tool('tools/train.py', TINY_CONFIG, '--skip-unreadable',
                       '--no-validate', '--work-dir', str(tmp_path / 'skip'),
                       *options, check=True)
    log = result.stdout + result.stderr
    assert 'train: 1 unreadable images skipped' in log
    assert osp.isfile(tmp_path / 'skip' / 'epoch_1.pth')


# --- annotation files ---


@pytest.mark.parametrize('line,reason', [
    ('val/ok.JPEG 10', 'label 10 is outside 0..9 (num_classes=10)'),
    ('val/ok.JPEG -1', 'label -1 is outside 0..9 (num_classes=10)'),
    ('val/ok.JPEG', 'expected "<image path> <label>", got 1 column'),
    ('val/ok.JPEG three', "label 'three' is not an integer"),
    ('val/gone.JPEG 1', 'image not found: '),
    ('', 'empty line'),
])
def test_bad_annotation_lines_are_named(tmp_path, line, reason):
    (tmp_path / 'val').mkdir()
    (tmp_path / 'val' / 'ok.JPEG').write_bytes(b'x')
    ann = tmp_path / 'val.txt'
    ann.write_text(f'val/ok.JPEG 0\nval/ok.JPEG 9\n{line}\n')
    with pytest.raises(AnnotationError) as error:
        check_annotation_file(str(ann), str(tmp_path), num_classes=10)
    assert str(error.value).startswith(f'{ann}:3: {reason}')
    (tmp_path / 'val' / 'ok2.JPEG').write_bytes(b'x')
    ann.write_text('val/ok.JPEG 0\nval/ok2.JPEG 9\n')
    assert check_annotation_file(str(ann), str(tmp_path), 10) == 2


@pytest.mark.parametrize('content, reason', [
    (b'', ': no samples listed (the file is empty)'),
    (b'\n', ': no samples listed (the file is empty)'),
    (b'val/ok.JPEG 0\nval/caf\xe9.JPEG 1\n',
     ':2: not UTF-8 (byte 0xe9 at column 8)'),
    (b'\xef\xbb\xbfval/ok.JPEG 0\n',
     ':1: the file starts with a UTF-8 byte-order mark'),
    (b'val/ok.JPEG 0\nval/ok2.JPEG 1\nval/ok.JPEG 0\n',
     ':3: repeats line 1 (val/ok.JPEG) (1 repeated lines in all): an '
     'evaluation would score those images twice'),
])
def test_annotation_files_real_users_write_are_named(tmp_path, content,
                                                     reason):
    (tmp_path / 'val').mkdir()
    for name in ('ok.JPEG', 'ok2.JPEG', 'caf\xe9.JPEG'):
        (tmp_path / 'val' / name).write_bytes(b'x')
    ann = tmp_path / 'val.txt'
    ann.write_bytes(content)
    with pytest.raises(AnnotationError) as error:
        check_annotation_file(str(ann), str(tmp_path), num_classes=10)
    assert str(error.value).startswith(f'{ann}{reason}')
    assert '\n' not in str(error.value)


def test_training_may_list_an_image_twice(tmp_path):
    (tmp_path / 'val').mkdir()
    (tmp_path / 'val' / 'ok.JPEG').write_bytes(b'x')
    ann = tmp_path / 'train.txt'
    ann.write_text('val/ok.JPEG 0\nval/ok.JPEG 0\n')
    assert check_annotation_file(str(ann), str(tmp_path), 10,
                                 duplicates_ok=True) == 2


@pytest.mark.slow
def test_tools_name_the_bad_annotation_line(shapes_copy):
    ann = osp.join(shapes_copy, 'meta', 'val.txt')
    with open(ann) as f:
        lines = f.read().splitlines()
    lines[4] = lines[4].rsplit(' ', 1)[0] + ' 12'
    with open(ann, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    result = call_tool('tools/test.py', TINY_CONFIG, __file__,
                       *data_options(shapes_copy))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f'error: {ann}:5: label 12 is outside 0..9 (num_classes=10)')


# --- command-line options ---


def test_cfg_options_typos_are_named():
    with pytest.raises(ConfigError, match=r"--cfg-options trian_cfg.max_epochs"
                       r": the config has no key 'trian_cfg' \(did you mean "
                       r"'train_cfg'\?\)"):
        load_config(TINY_CONFIG, {'trian_cfg.max_epochs': 1})
    with pytest.raises(ConfigError, match=r"train_cfg has no key 'max_epoch'"
                       r" \(did you mean 'max_epochs'\?\)"):
        load_config(TINY_CONFIG, {'train_cfg.max_epoch': 1})
    # New keys are fine when they are not a near miss of an existing one.
    cfg = load_config(TINY_CONFIG, {'sync_bn': 'torch',
                                    'test_dataloader.dataset.indices': 5})
    assert cfg.sync_bn == 'torch'
    # ... at any depth: a new dict and its keys.
    cfg = load_config(TINY_CONFIG, {
        'model.backbone.init_cfg.type': 'Pretrained',
        'model.backbone.init_cfg.checkpoint': 'x.pth'})
    assert cfg.model.backbone.init_cfg == dict(type='Pretrained',
                                               checkpoint='x.pth')


@pytest.mark.slow
def test_bad_cfg_option_exits_with_one_line():
    result = call_tool('tools/train.py', TINY_CONFIG, '--cfg-options',
                       'model.head.num_clases=3')
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: --cfg-options model.head.num_clases: model.head has no key "
        "'num_clases' (did you mean 'num_classes'?)")


@pytest.mark.slow
@pytest.mark.parametrize('decoding', [[], ['--gpu-decode']])
def test_a_batch_of_only_unreadable_images_is_skipped_whole(
        shapes_copy, one_epoch_run, tmp_path, decoding):
    """With --gpu-decode too: the workers check the files as the CPU path
    does, so the same files are skipped and counted."""
    names = val_images(shapes_copy)
    for name in names[:4]:  # the whole first batch
        with open(osp.join(shapes_copy, 'val', name), 'wb') as f:
            f.write(b'not an image')
    result = call_tool('tools/test.py', TINY_CONFIG,
                       osp.join(one_epoch_run, 'epoch_1.pth'), *decoding,
                       '--skip-unreadable', '--work-dir', str(tmp_path),
                       *data_options(shapes_copy,
                                     'test_dataloader.batch_size=4'))
    assert result.returncode == 0, result.stderr[-3000:]
    assert '(scored 16 samples, skipped 4 unreadable)' in result.stdout
