"""Converted torchvision and timm weights give the source model's logits.

Each source model is built by its own library with random weights made
well conditioned (BatchNorm statistics measured on images, logits of order
10; Keras's are perturbed instead), saved, converted with the command-line
tool, and loaded into our model through the config the tool names. Both
sides then see the same resized images (two generated ones, and two of
the ImageNet sample where it is present), each normalised its own way, and
must agree within float32 rounding (tests/helpers/numerics.py), on any
CPU's kernels.
"""
import copy
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from helpers.numerics import assert_within_rounding, calibrate
from helpers.tools import (MAIN_CONFIG, REPO, SAMPLE_DIR, call_tool,
                           one_line_error)
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope

from mmpre_inception.checkpoint import check_state_dict_fits, read_weights
from mmpre_inception.registry import MODELS

timm = pytest.importorskip('timm')
torchvision = pytest.importorskip('torchvision')

CONFIGS = osp.join(REPO, 'configs')
TIMM_CONFIGS = {
    'tv': osp.join(CONFIGS, 'timm', 'inception_v3_timm_tf_norm_in1k.py'),
    'tf': osp.join(CONFIGS, 'timm', 'inception_v3_timm_tf_norm_in1k.py'),
    'gluon': osp.join(CONFIGS, 'timm', 'inception_v3_timm_gluon_in1k.py'),
}


def generated_images(count=4):
    """Smooth random images, as uint8 HWC BGR arrays."""
    import cv2
    rng = np.random.default_rng(0)
    return [cv2.resize(rng.integers(0, 256, (9, 12, 3), dtype=np.uint8),
                       (400, 320), interpolation=cv2.INTER_CUBIC)
            for _ in range(count)]


def crops(cfg, images=None, paths=None):
    """Images through the config's test pipeline: uint8 CHW tensors (BGR),
    what both libraries' normalisation then starts from."""
    steps = [dict(step) for step in cfg.test_dataloader.dataset.pipeline]
    with DefaultScope.overwrite_default_scope('mmpre_inception'):
        if paths is not None:
            pipeline = Compose(steps)
            return [pipeline(dict(img_path=p))['inputs'] for p in paths]
        pipeline = Compose(steps[1:])  # images are already decoded
        return [pipeline(dict(img=img, img_shape=img.shape[:2],
                              ori_shape=img.shape[:2]))['inputs']
                for img in images]


def build_ours(cfg, checkpoint):
    with DefaultScope.overwrite_default_scope('mmpre_inception'):
        model = MODELS.build(dict(cfg.model,
                                  data_preprocessor=cfg.data_preprocessor))
    weights = read_weights(checkpoint)
    check_state_dict_fits(model.state_dict(), weights, checkpoint)
    model.load_state_dict(weights, strict=True)
    return model.eval()


def our_logits(model, chw_uint8):
    dtype = next(model.parameters()).dtype
    with torch.no_grad():
        data = model.data_preprocessor(
            dict(inputs=list(chw_uint8)), training=False)
        return model(data['inputs'].to(dtype), mode='tensor')


def normalised_rgb(chw_uint8, mean, std):
    """The source library's normalisation: RGB in 0..1, then mean/std."""
    x = torch.stack(chw_uint8).flip(1).float() / 255  # BGR -> RGB
    return (x - torch.tensor(mean)[:, None, None]) / torch.tensor(
        std)[:, None, None]


def assert_same_logits(got, expected, exact):
    """``got`` equals the source's float32 ``expected`` within the rounding
    of the source itself (``exact``: the same network in float64)."""
    assert_within_rounding(got, expected, exact, 'logits')
    assert torch.equal(got.argmax(1), expected.argmax(1))


def source_logits(source, inputs):
    """The source's float32 logits and its float64 ones (a copy)."""
    with torch.no_grad():
        outputs = (source(inputs), copy.deepcopy(source).double()(
            inputs.double()))
    # timm returns (logits, aux_logits) when built with aux_logits.
    return [out[0] if isinstance(out, tuple) else out for out in outputs]


def converter_inputs(cfg, count=2):
    """``count`` generated images, and as many of the ImageNet sample
    where it is present, through the config's test pipeline."""
    paths = sorted(glob.glob(osp.join(SAMPLE_DIR, 'val', '*')))[:count]
    return crops(cfg, generated_images(count)) + (crops(cfg, paths=paths)
                                                  if paths else [])


@pytest.fixture(scope='module')
def torchvision_source(tmp_path_factory):
    torch.manual_seed(0)
    model = torchvision.models.inception_v3(
        weights=None, aux_logits=True, transform_input=True,
        init_weights=True)
    calibrate(model, normalised_rgb(crops(Config.fromfile(MAIN_CONFIG),
                                          generated_images()),
                                    (0.485, 0.456, 0.406),
                                    (0.229, 0.224, 0.225)), model.fc)
    folder = tmp_path_factory.mktemp('torchvision')
    source, converted = folder / 'tv.pth', folder / 'ours.pth'
    torch.save(model.state_dict(), source)
    call_tool('tools/model_converters/torchvision2mmpre_inception.py',
              str(source), str(converted), check=True)
    return model.eval(), str(converted)


@pytest.mark.numerics
def test_torchvision_logits(torchvision_source):
    source, converted = torchvision_source
    cfg = Config.fromfile(MAIN_CONFIG)
    ours = build_ours(cfg, converted)
    images = converter_inputs(cfg)
    expected, exact = source_logits(
        source, normalised_rgb(images, (0.485, 0.456, 0.406),
                               (0.229, 0.224, 0.225)))
    assert_same_logits(our_logits(ours, images), expected, exact)


# The tags differ only in their normalisation: one of them is enough for the
# second run on another CPU's kernels (`make test`).
@pytest.fixture(scope='module', params=[
    pytest.param(variant, marks=pytest.mark.numerics)
    if variant == 'gluon' else variant for variant in sorted(TIMM_CONFIGS)])
def timm_source(request, tmp_path_factory):
    variant = request.param
    torch.manual_seed(1)
    model = timm.create_model(f'inception_v3.{variant}_in1k',
                              pretrained=False, aux_logits=True)
    data_cfg = timm.data.resolve_data_config({}, model=model)
    calibrate(model, normalised_rgb(
        crops(Config.fromfile(TIMM_CONFIGS[variant]), generated_images()),
        data_cfg['mean'], data_cfg['std']), model.fc)
    folder = tmp_path_factory.mktemp(f'timm_{variant}')
    source, converted = folder / 'model.safetensors', folder / 'ours.pth'
    from safetensors.torch import save_file
    save_file(model.state_dict(), str(source))
    # In this process, for each tag; the torchvision fixture above runs
    # its converter's command line.
    result = call_tool('tools/model_converters/timm2mmpre_inception.py',
                       str(source), str(converted), '--variant', variant)
    assert result.returncode == 0, result.stderr
    assert osp.relpath(TIMM_CONFIGS[variant], REPO) in result.stdout
    return variant, model.eval(), data_cfg, str(converted)


def test_timm_logits_with_each_tags_normalisation(timm_source):
    variant, source, data_cfg, converted = timm_source
    cfg = Config.fromfile(TIMM_CONFIGS[variant])
    # The config reproduces timm's resize for the tag.
    assert data_cfg['interpolation'] == 'bicubic'
    resize = cfg.test_dataloader.dataset.pipeline[1]
    assert resize['scale'] == int(299 / data_cfg['crop_pct'])
    assert resize['interpolation'] == 'bicubic'
    ours = build_ours(cfg, converted)
    images = converter_inputs(cfg)
    expected, exact = source_logits(
        source, normalised_rgb(images, data_cfg['mean'], data_cfg['std']))
    assert_same_logits(our_logits(ours, images), expected, exact)


def test_converter_refuses_a_bad_file_with_one_line(tmp_path):
    bad = tmp_path / 'bad.pth'
    bad.write_bytes(b'not a checkpoint')
    result = call_tool('tools/model_converters/torchvision2mmpre_inception.py',
                       str(bad), str(tmp_path / 'out.pth'))
    assert result.returncode == 1  # a file's content: errors.EXIT_STATUS
    assert result.stderr.strip().startswith(
        f'error: cannot read checkpoint {bad}: the file is truncated or not '
        'a PyTorch checkpoint')


KERAS_CONFIG = osp.join(CONFIGS, 'tensorflow', 'inception_v3_keras_in1k.py')


@pytest.fixture(scope='module', params=[1000, 1001])
def keras_source(request, tmp_path_factory):
    """keras.applications.InceptionV3 with random weights, BatchNorm
    statistics and offsets perturbed, saved as a Keras weights file."""
    os = pytest.importorskip('os')
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
    keras = pytest.importorskip('keras', reason='TensorFlow is optional '
                                '(requirements/optional.txt)')
    classes = request.param
    keras.utils.set_random_seed(0)
    model = keras.applications.InceptionV3(
        weights=None, classes=classes, classifier_activation=None)
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if type(layer).__name__ == 'BatchNormalization':
            beta, mean, var = layer.get_weights()
            layer.set_weights([
                rng.normal(0, 0.1, beta.shape).astype(np.float32),
                rng.normal(0, 0.1, mean.shape).astype(np.float32),
                rng.uniform(0.5, 1.5, var.shape).astype(np.float32)])
    folder = tmp_path_factory.mktemp(f'keras{classes}')
    source, converted = folder / 'k.weights.h5', folder / 'ours.pth'
    model.save_weights(str(source))
    # In this process: TensorFlow is imported already (tens of seconds).
    result = call_tool('tools/model_converters/keras2mmpre_inception.py',
                       str(source), str(converted), '--classes', str(classes))
    assert result.returncode == 0, result.stderr
    return model, classes, str(converted)


def keras_logits(model, chw_uint8, classes):
    """Keras' own preprocessing: RGB, NHWC, preprocess_input ('tf' mode)."""
    import keras
    rgb = torch.stack(chw_uint8).flip(1).permute(0, 2, 3, 1).numpy()
    inputs = keras.applications.inception_v3.preprocess_input(
        rgb.astype(np.float32))
    logits = torch.from_numpy(np.array(model(inputs, training=False)))
    return logits[:, 1:] if classes == 1001 else logits


def test_keras_logits(keras_source):
    model, classes, converted = keras_source
    cfg = Config.fromfile(KERAS_CONFIG)
    ours = build_ours(cfg, converted)
    images = converter_inputs(cfg)
    assert_same_logits(our_logits(ours, images),
                       keras_logits(model, images, classes),
                       our_logits(copy.deepcopy(ours).double(), images))


def test_keras_pooling_difference_is_real(keras_source):
    """With PyTorch's pooling the converted weights are measurably off:
    the config's pool_count_include_pad=False is what makes them exact."""
    model, classes, converted = keras_source
    cfg = Config.fromfile(KERAS_CONFIG)
    cfg.model.backbone.pool_count_include_pad = True
    ours = build_ours(cfg, converted)
    images = crops(cfg, generated_images())
    expected = keras_logits(model, images, classes)
    got = our_logits(ours, images)
    assert ((got - expected).norm() / expected.norm()).item() > 1e-3


@pytest.mark.parametrize('tool', ['torchvision2mmpre_inception.py',
                                  'timm2mmpre_inception.py'])
def test_converters_refuse_what_is_not_an_inception_v3(tmp_path, tool):
    resnet = tmp_path / 'resnet18.pth'
    torch.save(torchvision.models.resnet18().state_dict(), resnet)
    ours = tmp_path / 'ours.pth'
    torch.save({'state_dict': {'backbone.Conv2d_1a_3x3.conv.weight':
                               torch.zeros(32, 3, 3, 3)}}, ours)
    source = 'torchvision' if tool.startswith('torchvision') else 'timm'
    variant = ['--variant', 'tv'] if source == 'timm' else []
    for path, start in [
            (resnet, f"{resnet} is not an Inception V3 state dict in "
             f"{source}'s layout: "),
            (ours, f"{ours} is already in mmpre_inception's layout")]:
        result = call_tool(f'tools/model_converters/{tool}', str(path),
                           str(tmp_path / 'out.pth'), *variant)
        line = one_line_error(result, status=1, alone=True)
        assert line.startswith(f'error: {start}')
        assert not (tmp_path / 'out.pth').exists()
