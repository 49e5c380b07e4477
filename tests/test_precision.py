"""Speed options keep the model's outputs within tolerance."""
import os.path as osp

import pytest
import torch
from conftest import REPO, perturb_batchnorm
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from mmpretrain.structures import DataSample

from mmpre_inception.engine import AutocastOptimWrapper
from mmpre_inception.registry import MODELS

MAIN_CONFIG = osp.join(REPO, 'configs', 'inception_v3_8xb32_in1k.py')


def build(channels_last=False):
    cfg = Config.fromfile(MAIN_CONFIG)
    cfg.model.head.update(num_classes=10, dropout=0.0)
    cfg.model.channels_last = channels_last
    with DefaultScope.overwrite_default_scope('mmpre_inception'):
        model = MODELS.build(cfg.model)
    torch.manual_seed(0)
    model.init_weights()
    perturb_batchnorm(model, torch.Generator().manual_seed(0))
    return model, cfg


@pytest.fixture(scope='module')
def images():
    return torch.randn(2,
                       3,
                       139,
                       139,
                       generator=torch.Generator().manual_seed(0))


def relative_error(got, expected):
    return ((got.float() - expected).norm() / expected.norm()).item()


def test_channels_last_matches_nchw(images):
    reference, _ = build()
    nhwc, _ = build(channels_last=True)
    nhwc.load_state_dict(reference.state_dict())
    conv = nhwc.backbone.Conv2d_1a_3x3.conv.weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    reference.eval(), nhwc.eval()
    with torch.no_grad():
        expected = reference(images, mode='tensor')
        got = nhwc(images, mode='tensor')
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)


def train_step(channels_last,
               initial,
               images,
               batch_statistics=True,
               dtype=torch.float32):
    """One step of the main recipe (RMSpropTF, clipping, label smoothing,
    aux loss) from the weights ``initial``; returns the losses, the
    gradients and the updated weights."""
    model, cfg = build(channels_last)
    model.load_state_dict(initial)
    model.to(dtype).train(batch_statistics)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    samples = [DataSample().set_gt_label(label) for label in (1, 7)]
    losses = model(images.to(dtype), samples, mode='loss')
    sum(losses.values()).backward()
    grads = {k: p.grad.double() for k, p in model.named_parameters()}
    optim_wrapper.step()
    return losses, grads, model.state_dict()


def test_channels_last_training_step_matches_nchw(images):
    initial = build()[0].state_dict()
    # BatchNorm on running statistics: a well-conditioned network, where
    # the two layouts must agree tightly, weights after the step included.
    nchw = train_step(False, initial, images, batch_statistics=False)
    nhwc = train_step(True, initial, images, batch_statistics=False)
    assert nhwc[2]['backbone.Conv2d_1a_3x3.conv.weight'].is_contiguous(
        memory_format=torch.channels_last)
    for key, loss in nchw[0].items():
        torch.testing.assert_close(nhwc[0][key], loss, rtol=1e-5, atol=0)
    for key, weight in nchw[2].items():
        torch.testing.assert_close(nhwc[2][key],
                                   weight,
                                   rtol=1e-4,
                                   atol=1e-6,
                                   msg=key)


def test_channels_last_batch_statistics_gradients_as_exact_as_nchw(images):
    """With batch statistics, random Inception blocks amplify float32
    rounding until early-layer gradients differ by a few percent between
    any two kernels. The yardstick is float64: NHWC must be about as close
    to it as NCHW is."""
    initial = build()[0].state_dict()
    exact = train_step(False, initial, images, dtype=torch.float64)
    nchw = train_step(False, initial, images)
    nhwc = train_step(True, initial, images)
    for key, loss in exact[0].items():
        torch.testing.assert_close(nhwc[0][key].double(),
                                   loss,
                                   rtol=1e-5,
                                   atol=0)

    def distance(grads):
        return max(
            ((grads[k] - exact[1][k]).norm() / exact[1][k].norm()).item()
            for k in grads)

    assert distance(nhwc[1]) < 2 * distance(nchw[1])


def test_chunked_cpu_inference_matches_whole_batch():
    model, _ = build()
    model.eval()
    five = torch.randn(5,
                       3,
                       107,
                       107,
                       generator=torch.Generator().manual_seed(1))
    samples = [DataSample() for _ in range(5)]
    outputs = {}
    with torch.no_grad():
        for chunk in (None, 2):
            model.cpu_inference_chunk = chunk
            outputs[chunk] = (model(five, mode='tensor'),
                              model(five, samples, mode='predict'),
                              model.extract_feat(five, stage='backbone'))
    (logits, predictions, stages), (got_logits, got_predictions,
                                    got_stages) = outputs.values()
    torch.testing.assert_close(got_logits, logits, rtol=1e-5, atol=1e-6)
    assert [p.pred_label.item() for p in got_predictions] == \
        [p.pred_label.item() for p in predictions]
    assert [s.shape for s in got_stages] == [s.shape for s in stages] == \
        [(5, 768, 5, 5), (5, 2048, 2, 2)]
    for got, expected in zip(got_stages, stages):
        # Elementwise closeness fails where random weights cancel large
        # activations to near zero; the tensor as a whole is unchanged.
        assert relative_error(got, expected) < 1e-6


def test_cpu_inference_chunk_must_be_positive():
    cfg = Config.fromfile(MAIN_CONFIG)
    cfg.model.cpu_inference_chunk = 0
    with DefaultScope.overwrite_default_scope('mmpre_inception'), \
            pytest.raises(ValueError, match='cpu_inference_chunk must be'):
        MODELS.build(cfg.model)


def test_bfloat16_autocast_inference_within_tolerance(images):
    model, _ = build()
    model.eval()
    with torch.no_grad():
        expected = model(images, mode='tensor')
        with torch.autocast('cpu', dtype=torch.bfloat16):
            got = model(images, mode='tensor')
    assert got.dtype == torch.bfloat16
    assert relative_error(got, expected) < 3e-2


def test_autocast_optim_wrapper_trains_in_bfloat16(images):
    """Its context autocasts (logits within the tolerance of the inference
    test) and its update is finite. Random weights with running statistics
    are the reference: with batch statistics, random Inception blocks
    amplify bfloat16 rounding about twofold each (0.3% after the stem, over
    50% at Mixed_7c), which says nothing about trained weights."""
    model, cfg = build()
    optim_wrapper = build_optim_wrapper(
        model, dict(cfg.optim_wrapper, type=AutocastOptimWrapper))
    model.eval()
    with torch.no_grad():
        expected = model(images, mode='tensor')
        with optim_wrapper.optim_context(model):
            got = model(images, mode='tensor')
    assert got.dtype == torch.bfloat16
    assert relative_error(got, expected) < 3e-2

    samples = [DataSample().set_gt_label(label) for label in (1, 7)]
    model.train()
    with optim_wrapper.optim_context(model):
        loss = sum(model(images, samples, mode='loss').values())
    before = model.head.fc.weight.detach().clone()
    optim_wrapper.update_params(loss)
    assert torch.isfinite(model.head.fc.weight).all()
    assert not torch.equal(model.head.fc.weight, before)


def test_autocast_optim_wrapper_refuses_float16():
    with pytest.raises(ValueError, match='dtype must be bfloat16'):
        AutocastOptimWrapper(dtype='float16',
                             optimizer=torch.optim.SGD(
                                 [torch.nn.Parameter(torch.zeros(1))], lr=0.1))
