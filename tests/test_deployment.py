"""Deploy forms: folded BatchNorm and ONNX keep the model's outputs."""
import numpy as np
import pytest
import torch
from helpers.numerics import (assert_within_rounding, calibrate,
                              float64_copy)
from helpers.tools import TINY_CONFIG, call_tool
from mmcv.cnn import fuse_conv_bn
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmpre_inception.checkpoint import load_checkpoint_file
from mmpre_inception.registry import MODELS


def build(config=TINY_CONFIG):
    cfg = Config.fromfile(config)
    with DefaultScope.overwrite_default_scope('mmpre_inception'):
        model = MODELS.build(dict(cfg.model,
                                  data_preprocessor=cfg.data_preprocessor))
    torch.manual_seed(0)
    model.init_weights()
    return model.eval()


@pytest.mark.numerics
def test_folded_batchnorm_gives_the_same_logits():
    model = build()
    images = torch.randn(4, 3, 120, 120,
                         generator=torch.Generator().manual_seed(0))
    calibrate(model, images, model.head.fc,
              forward=lambda x: model(x, mode='tensor'))
    with torch.no_grad():
        expected = model(images, mode='tensor')
        exact = float64_copy(model)(images.double(), mode='tensor')
        folded = sum(isinstance(m, torch.nn.BatchNorm2d)
                     for m in model.modules())
        fuse_conv_bn(model)
        assert folded == 94 + 2  # backbone + aux head
        got = model(images, mode='tensor')
    assert not any(isinstance(m, torch.nn.BatchNorm2d)
                   for m in model.modules())
    assert_within_rounding(got, expected, exact, 'folded logits')


@pytest.mark.slow
def test_onnx_export_matches_pytorch(one_epoch_run, tmp_path):
    ort = pytest.importorskip('onnxruntime')
    checkpoint = f'{one_epoch_run}/epoch_1.pth'
    onnx_file = str(tmp_path / 'model.onnx')
    call_tool('tools/deployment/pytorch2onnx.py', TINY_CONFIG, checkpoint,
              '--output-file', onnx_file, '--shape', '80', check=True)
    model = build()
    weights = load_checkpoint_file(checkpoint, mmap=True)['state_dict']
    model.load_state_dict(weights)
    session = ort.InferenceSession(onnx_file,
                                   providers=['CPUExecutionProvider'])
    rng = np.random.default_rng(0)
    for batch in (1, 3):  # the batch axis is dynamic
        rgb = rng.integers(0, 256, (batch, 3, 80, 80)).astype(np.float32)
        (got, ) = session.run(['logits'], {'image': rgb})
        with torch.no_grad():
            # Our preprocessor takes BGR and flips it (to_rgb=True).
            data = model.data_preprocessor(
                dict(inputs=list(torch.from_numpy(rgb[:, ::-1].copy()))),
                training=False)
            expected = model(data['inputs'], mode='tensor').numpy()
            exact = float64_copy(model)(data['inputs'].double(),
                                        mode='tensor')
        assert got.shape == (batch, 10)
        assert_within_rounding(torch.from_numpy(got),
                               torch.from_numpy(expected), exact, 'ONNX')


def test_fold_batchnorm_hook_folds_the_test_model():
    from types import SimpleNamespace

    from mmpre_inception.engine import FoldBatchNormHook
    model = build()
    FoldBatchNormHook().before_test_epoch(SimpleNamespace(model=model))
    assert not any(isinstance(m, torch.nn.BatchNorm2d)
                   for m in model.modules())
