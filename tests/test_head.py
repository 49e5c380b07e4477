import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import DefaultScope
from mmpretrain.structures import DataSample

from mmpre_inception.models import InceptionV3Head, LastStageGAP
from mmpre_inception.registry import MODELS

NUM_CLASSES = 7


def _samples(labels):
    return [DataSample().set_gt_label(int(label)) for label in labels]


def _feats(batch=3, aux_size=17):
    generator = torch.Generator().manual_seed(0)
    return (torch.randn(batch, 768, aux_size, aux_size, generator=generator),
            torch.randn(batch, 2048, generator=generator))


def test_loss_reports_both_terms_with_their_weights():
    head = InceptionV3Head(num_classes=NUM_CLASSES, dropout=0.0,
                           aux_loss_weight=0.4)
    head.init_weights()
    feats = _feats()
    labels = torch.tensor([0, 3, 6])
    losses = head.loss(feats, _samples(labels))
    assert set(losses) == {'loss_cls', 'loss_aux'}
    expected_cls = F.cross_entropy(head.fc(feats[1]), labels)
    expected_aux = 0.4 * F.cross_entropy(head.AuxLogits(feats[0]), labels)
    torch.testing.assert_close(losses['loss_cls'], expected_cls)
    torch.testing.assert_close(losses['loss_aux'], expected_aux)


def test_gradients_reach_auxiliary_parameters():
    head = InceptionV3Head(num_classes=NUM_CLASSES)
    head.init_weights()
    head.train()
    losses = head.loss(_feats(), _samples([1, 2, 3]))
    sum(losses.values()).backward()
    aux_params = list(head.AuxLogits.named_parameters())
    assert aux_params
    for name, param in aux_params:
        assert param.grad is not None, name
        assert param.grad.abs().sum() > 0, name
    assert head.fc.weight.grad.abs().sum() > 0


def test_loss_without_aux_has_only_the_classifier_term():
    head = InceptionV3Head(num_classes=NUM_CLASSES, aux_logits=False,
                           dropout=0.0)
    assert head.AuxLogits is None
    feats = (torch.randn(2, 2048), )
    labels = torch.tensor([4, 5])
    losses = head.loss(feats, _samples(labels))
    assert set(losses) == {'loss_cls'}
    torch.testing.assert_close(losses['loss_cls'],
                               F.cross_entropy(head.fc(feats[0]), labels))


def test_label_smoothing_applies_to_both_classifiers():
    smoothing = 0.1
    head = InceptionV3Head(
        num_classes=NUM_CLASSES, dropout=0.0,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=smoothing,
                  mode='original'))
    head.init_weights()
    feats = _feats()
    labels = torch.tensor([0, 1, 2])
    losses = head.loss(feats, _samples(labels))

    def smoothed(logits):
        # "original" label smoothing: (1 - eps) * one_hot + eps / K.
        target = F.one_hot(labels, NUM_CLASSES).float() * (1 - smoothing)
        target += smoothing / NUM_CLASSES
        return -(target * F.log_softmax(logits, 1)).sum(1).mean()

    torch.testing.assert_close(losses['loss_cls'], smoothed(head.fc(feats[1])))
    torch.testing.assert_close(losses['loss_aux'],
                               0.4 * smoothed(head.AuxLogits(feats[0])))


def test_mixup_style_soft_targets():
    head = InceptionV3Head(num_classes=NUM_CLASSES, dropout=0.0)
    samples = [DataSample().set_gt_score(torch.full((NUM_CLASSES, ),
                                                    1 / NUM_CLASSES))
               for _ in range(3)]
    losses = head.loss(_feats(), samples)
    assert set(losses) == {'loss_cls', 'loss_aux'}


def test_predict_never_runs_the_auxiliary_classifier():
    head = InceptionV3Head(num_classes=NUM_CLASSES).eval()
    calls = []
    head.AuxLogits.register_forward_hook(lambda *args: calls.append(1))
    feats = _feats()
    samples = head.predict(feats)
    assert not calls
    assert len(samples) == 3
    torch.testing.assert_close(samples[0].pred_score,
                               F.softmax(head.fc(feats[1]), 1)[0])


@pytest.mark.parametrize('aux_size', [17, 5, 3, 1, 12])
def test_auxiliary_classifier_handles_small_inputs(aux_size):
    head = InceptionV3Head(num_classes=NUM_CLASSES)
    logits = head.forward_aux(_feats(aux_size=aux_size))
    assert tuple(logits.shape) == (3, NUM_CLASSES)


def test_aux_requires_the_mixed_6e_map():
    head = InceptionV3Head(num_classes=NUM_CLASSES)
    with pytest.raises(ValueError, match=r'out_indices=\(2, 3\)'):
        head.loss((torch.randn(2, 2048), ), _samples([0, 1]))


def test_rejects_unpooled_features():
    head = InceptionV3Head(num_classes=NUM_CLASSES, aux_logits=False)
    with pytest.raises(ValueError, match='LastStageGAP'):
        head((torch.randn(2, 2048, 8, 8), ))


def test_a_backbone_ending_before_the_last_stage_is_named():
    """``out_indices=(2,)`` with the main config's head: one line saying
    which stage the head needs, not a matrix-shape error."""
    import os.path as osp

    from helpers.tools import REPO
    from mmengine.config import Config
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'inception_v3_8xb32_in1k.py'))
    cfg.model.backbone.out_indices = (2, )
    cfg.model.head.update(num_classes=NUM_CLASSES, aux_logits=False)
    with DefaultScope.overwrite_default_scope('mmpre_inception'):
        model = MODELS.build(cfg.model).eval()
    with pytest.raises(ValueError) as error, torch.no_grad():
        model(torch.rand(1, 3, 107, 107), mode='tensor')
    assert str(error.value) == (
        'InceptionV3Head needs the pooled last stage with 2048 channels '
        '(Mixed_7c); the last feature has 768. End model.backbone.'
        'out_indices with stage 3, e.g. (2, 3), or set '
        'model.head.in_channels.')


def test_last_stage_gap_pools_only_the_last_stage():
    aux_map, last = torch.randn(2, 768, 17, 17), torch.randn(2, 2048, 8, 8)
    out = LastStageGAP()((aux_map, last))
    assert out[0] is aux_map
    torch.testing.assert_close(out[1], F.adaptive_avg_pool2d(last, 1)
                               .flatten(1))


def _model_cfg(aux_logits):
    return dict(
        type='InceptionClassifier',
        backbone=dict(type='InceptionV3',
                      out_indices=(2, 3) if aux_logits else (3, )),
        neck=dict(type='LastStageGAP'),
        head=dict(type='InceptionV3Head', num_classes=1000,
                  aux_logits=aux_logits))


def test_parameter_count_matches_the_model_zoo():
    with DefaultScope.overwrite_default_scope('mmpre_inception'):
        model = MODELS.build(_model_cfg(aux_logits=False))
        with_aux = MODELS.build(_model_cfg(aux_logits=True))
    assert sum(p.numel() for p in model.parameters()) == 23_834_568
    # The auxiliary classifier: 1x1 768->128, 5x5 128->768, fc 768->1000,
    # each conv with a BatchNorm (weight and bias).
    aux = (768 * 128 + 2 * 128) + (128 * 768 * 25 + 2 * 768) + (
        768 * 1000 + 1000)
    assert sum(p.numel() for p in with_aux.parameters()) == 23_834_568 + aux


def test_classifier_training_step_reports_both_losses():
    with DefaultScope.overwrite_default_scope('mmpre_inception'):
        model = MODELS.build(_model_cfg(aux_logits=True))
    model.init_weights()
    model.train()
    inputs = torch.rand(2, 3, 107, 107)
    losses = model(inputs, _samples([1, 2]), mode='loss')
    assert set(losses) == {'loss_cls', 'loss_aux'}
    model.eval()
    with torch.no_grad():
        predictions = model(inputs, mode='predict')
    assert predictions[0].pred_score.shape == (1000, )
