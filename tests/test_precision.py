"""Speed options keep the model's outputs within float32 rounding.

Every comparison runs a well-conditioned network (BatchNorm statistics
measured on the inputs, logits of order 10; tests/helpers/numerics.py) and
bounds the difference by the reference's own float32 rounding, so it holds
with every CPU's kernels (CI runs this file again with
``ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41``).
"""

import pytest
import torch
from helpers.numerics import (assert_as_exact_as, assert_loss_within_rounding,
                              assert_within_rounding, bfloat16_tolerance,
                              calibrate, float64_copy, relative_error)
from helpers.tools import MAIN_CONFIG
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from mmpretrain.structures import DataSample

from mmpre_inception.engine import AutocastOptimWrapper
from mmpre_inception.registry import MODELS

pytestmark = pytest.mark.numerics


def build(channels_last=False, initial=None):
    """The main config's model with 10 classes and no dropout, holding
    ``initial`` (else its random initialisation)."""
    cfg = Config.fromfile(MAIN_CONFIG)
    cfg.model.head.update(num_classes=10, dropout=0.0)
    cfg.model.channels_last = channels_last
    with DefaultScope.overwrite_default_scope('mmpre_inception'):
        model = MODELS.build(cfg.model)
    if initial is None:
        torch.manual_seed(0)
        model.init_weights()
    else:
        model.load_state_dict(initial)
    return model, cfg


@pytest.fixture(scope='module')
def calibration_images():
    return torch.randn(8,
                       3,
                       139,
                       139,
                       generator=torch.Generator().manual_seed(0))


@pytest.fixture(scope='module')
def images(calibration_images):
    return calibration_images[:2]


@pytest.fixture(scope='module')
def initial(calibration_images):
    """Weights of a well-conditioned random network (NCHW)."""
    model, _ = build()
    calibrate(model, calibration_images, model.head.fc,
              forward=lambda x: model(x, mode='tensor'))
    return model.state_dict()


def test_channels_last_matches_nchw(initial, images):
    reference, _ = build(initial=initial)
    nhwc, _ = build(channels_last=True, initial=initial)
    conv = nhwc.backbone.Conv2d_1a_3x3.conv.weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    exact = float64_copy(reference).eval()
    reference.eval(), nhwc.eval()
    with torch.no_grad():
        expected = reference(images, mode='tensor')
        got = nhwc(images, mode='tensor')
        exact_logits = exact(images.double(), mode='tensor')
    assert_within_rounding(got, expected, exact_logits, 'logits')


def train_step(channels_last,
               initial,
               images,
               batch_statistics=True,
               dtype=torch.float32):
    """One step of the main recipe (RMSpropTF, clipping, label smoothing,
    aux loss) from the weights ``initial``; returns the losses, the
    gradients, the updated weights and the logits the losses came from."""
    model, cfg = build(channels_last, initial)
    model.to(dtype).train(batch_statistics)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    logits = {}
    for name, fc in (('loss_cls', model.head.fc),
                     ('loss_aux', model.head.AuxLogits.fc)):
        fc.register_forward_hook(
            lambda module, inputs, output, name=name: logits.update(
                {name: output.detach()}))
    samples = [DataSample().set_gt_label(label) for label in (1, 7)]
    losses = model(images.to(dtype), samples, mode='loss')
    sum(losses.values()).backward()
    grads = {k: p.grad.double() for k, p in model.named_parameters()}
    optim_wrapper.step()
    return losses, grads, model.state_dict(), logits


def assert_losses_within_rounding(got, reference, exact):
    """The two steps' losses agree up to the rounding of their logits."""
    aux_weight = Config.fromfile(MAIN_CONFIG).model.head.aux_loss_weight
    weights = dict(loss_cls=1.0, loss_aux=aux_weight)
    for key, loss in reference[0].items():
        assert_loss_within_rounding(got[0][key], loss, exact[0][key],
                                    reference[3][key], exact[3][key],
                                    weights[key], key)


def test_channels_last_training_step_matches_nchw(initial, images):
    # BatchNorm on running statistics: the two layouts must agree within
    # rounding, losses and the weights after the step included.
    exact = train_step(False, initial, images, batch_statistics=False,
                       dtype=torch.float64)
    nchw = train_step(False, initial, images, batch_statistics=False)
    nhwc = train_step(True, initial, images, batch_statistics=False)
    assert nhwc[2]['backbone.Conv2d_1a_3x3.conv.weight'].is_contiguous(
        memory_format=torch.channels_last)
    assert_losses_within_rounding(nhwc, nchw, exact)
    assert_as_exact_as(nhwc[1], nchw[1], exact[1])

    def updates(step):
        return {key: step[2][key].double() - initial[key].double()
                for key in initial if initial[key].is_floating_point()}

    assert_as_exact_as(updates(nhwc), updates(nchw), updates(exact))


def test_channels_last_batch_statistics_gradients_as_exact_as_nchw(
        initial, images):
    """With the batch statistics of two images, Inception's blocks amplify
    float32 rounding until early-layer gradients differ by a few percent
    between any two kernels. The yardstick is float64: NHWC must be about
    as close to it as NCHW is."""
    exact = train_step(False, initial, images, dtype=torch.float64)
    nchw = train_step(False, initial, images)
    nhwc = train_step(True, initial, images)
    assert_losses_within_rounding(nhwc, nchw, exact)

    assert_as_exact_as(nhwc[1], nchw[1], exact[1])


def test_chunked_cpu_inference_matches_whole_batch(initial,
                                                   calibration_images):
    model, _ = build(initial=initial)
    model.eval()
    five = calibration_images[:5]
    samples = [DataSample() for _ in range(5)]
    outputs = {}
    with torch.no_grad():
        exact_model = float64_copy(model)
        exact = exact_model(five.double(), mode='tensor')
        exact_stages = exact_model.extract_feat(five.double(),
                                                stage='backbone')
        for chunk in (None, 2):
            model.cpu_inference_chunk = chunk
            outputs[chunk] = (model(five, mode='tensor'),
                              model(five, samples, mode='predict'),
                              model.extract_feat(five, stage='backbone'))
    (logits, predictions, stages), (got_logits, got_predictions,
                                    got_stages) = outputs.values()
    assert_within_rounding(got_logits, logits, exact, 'logits')
    assert [p.pred_label.item() for p in got_predictions] == \
        [p.pred_label.item() for p in predictions]
    assert [s.shape for s in got_stages] == [s.shape for s in stages] == \
        [(5, 768, 7, 7), (5, 2048, 3, 3)]
    for got, expected, exact_stage in zip(got_stages, stages, exact_stages):
        assert_within_rounding(got, expected, exact_stage, 'stage')


def test_cpu_inference_chunk_must_be_positive():
    cfg = Config.fromfile(MAIN_CONFIG)
    cfg.model.cpu_inference_chunk = 0
    with DefaultScope.overwrite_default_scope('mmpre_inception'), \
            pytest.raises(ValueError, match='cpu_inference_chunk must be'):
        MODELS.build(cfg.model)


def test_bfloat16_autocast_inference_within_tolerance(initial, images):
    model, _ = build(initial=initial)
    model.eval()
    with torch.no_grad():
        expected = model(images, mode='tensor')
        exact = float64_copy(model)(images.double(), mode='tensor')
        with torch.autocast('cpu', dtype=torch.bfloat16):
            got = model(images, mode='tensor')
    assert got.dtype == torch.bfloat16
    assert relative_error(got, expected) < bfloat16_tolerance(
        expected, exact)


def test_autocast_optim_wrapper_trains_in_bfloat16(initial, images):
    """Its context autocasts (logits within the tolerance of the inference
    test) and its update is finite."""
    model, cfg = build(initial=initial)
    optim_wrapper = build_optim_wrapper(
        model, dict(cfg.optim_wrapper, type=AutocastOptimWrapper))
    model.eval()
    with torch.no_grad():
        expected = model(images, mode='tensor')
        exact = float64_copy(model)(images.double(), mode='tensor')
        with optim_wrapper.optim_context(model):
            got = model(images, mode='tensor')
    assert got.dtype == torch.bfloat16
    assert relative_error(got, expected) < bfloat16_tolerance(
        expected, exact)

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
