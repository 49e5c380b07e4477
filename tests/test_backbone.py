import copy

import pytest
import torch
import torchvision
from helpers.numerics import (assert_within_rounding, calibrate,
                              float64_copy)
from torch.nn.modules.batchnorm import _BatchNorm

from mmpre_inception.models import InceptionV3, InceptionV3Head
from mmpre_inception.models.backbones.inception_v3 import (BasicConv2d,
                                                           InceptionA)

STAGE_CHANNELS = (192, 288, 768, 2048)
# Spatial size of each stage output, computed by hand from the layer
# strides for a 299 and the smallest (75) input.
STAGE_SIZES = {299: (35, 35, 17, 8), 75: (7, 7, 3, 1), 107: (11, 11, 5, 2)}


@pytest.fixture(scope='module')
def torchvision_pair():
    """torchvision's inception_v3 with random, well-conditioned weights
    and our backbone and head holding the same weights."""
    torch.manual_seed(0)
    reference = torchvision.models.inception_v3(
        weights=None, aux_logits=True, init_weights=True,
        transform_input=False)
    calibrate(reference, torch.randn(
        8, 3, 299, 299, generator=torch.Generator().manual_seed(0)),
        reference.fc)
    state = reference.state_dict()
    backbone = InceptionV3(out_indices=(0, 1, 2, 3)).eval()
    head = InceptionV3Head(num_classes=1000).eval()
    backbone.load_state_dict(
        {k: v for k, v in state.items()
         if not k.startswith(('fc.', 'AuxLogits.'))}, strict=True)
    head.load_state_dict(
        {k: v for k, v in state.items()
         if k.startswith(('fc.', 'AuxLogits.'))}, strict=True)
    return reference, backbone, head


@pytest.mark.numerics
@pytest.mark.parametrize('size', [299, 107])
def test_matches_torchvision_features_and_logits(torchvision_pair, size):
    """Ours computes torchvision's features and logits: within float32
    rounding of torchvision's own float32 result (the head pools and
    classifies with other calls than torchvision's ``avgpool`` and ``fc``;
    the backbone alone is bit for bit torchvision's, tested below)."""
    reference, backbone, head = torchvision_pair
    names = ('maxpool2', 'Mixed_5d', 'Mixed_6e', 'Mixed_7c')
    x = torch.randn(2, 3, size, size,
                    generator=torch.Generator().manual_seed(1))

    def features_and_logits(network, inputs):
        captured = {}
        hooks = [getattr(network, name).register_forward_hook(
            lambda module, inp, out, name=name: captured.update({name: out}))
            for name in names]
        with torch.no_grad():
            logits = network(inputs)
        for hook in hooks:
            hook.remove()
        return [captured[name] for name in names], logits

    expected, expected_logits = features_and_logits(reference, x)
    exact, exact_logits = features_and_logits(float64_copy(reference),
                                              x.double())
    with torch.no_grad():
        feats = backbone(x)
        logits = head((feats[2], feats[3].mean(dim=(2, 3))))
    for feat, theirs, theirs_exact, name in zip(feats, expected, exact,
                                                names):
        assert feat.shape == theirs.shape
        assert_within_rounding(feat, theirs, theirs_exact, name)
    assert_within_rounding(logits, expected_logits, exact_logits, 'logits')


@pytest.mark.parametrize('size', [299, 75, 107])
@pytest.mark.parametrize('out_indices', [(0, ), (1, ), (2, ), (3, ),
                                         (2, 3), (0, 1, 2, 3), (-1, )])
def test_output_shapes(size, out_indices):
    model = InceptionV3(out_indices=out_indices).eval()
    with torch.no_grad():
        feats = model(torch.rand(1, 3, size, size))
    stages = [i % 4 for i in out_indices]
    assert len(feats) == len(stages)
    for feat, stage in zip(feats, stages):
        side = STAGE_SIZES[size][stage]
        assert tuple(feat.shape) == (1, STAGE_CHANNELS[stage], side, side)


def test_non_square_input():
    model = InceptionV3().eval()
    with torch.no_grad():
        (feat, ) = model(torch.rand(1, 3, 299, 107))
    assert tuple(feat.shape) == (1, 2048, 8, 2)


def test_rejects_too_small_input():
    model = InceptionV3().eval()
    with pytest.raises(ValueError, match='at least 75'):
        model(torch.rand(1, 3, 74, 299))


@pytest.mark.parametrize('kwargs, message', [
    (dict(out_indices=(4, )), 'out of range'),
    (dict(out_indices=(3, 2)), 'increasing order'),
    (dict(frozen_stages=4), 'frozen_stages'),
])
def test_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        InceptionV3(**kwargs)


def _stage_params(model, stage):
    return [p for m in model.stage_modules(stage) for p in m.parameters()]


def _stage_norms(model, stage):
    return [m for module in model.stage_modules(stage)
            for m in module.modules() if isinstance(m, _BatchNorm)]


@pytest.mark.parametrize('frozen_stages', [0, 2])
def test_frozen_stages_are_frozen(frozen_stages):
    model = InceptionV3(frozen_stages=frozen_stages)
    model.train()
    frozen_before = [[p.clone() for p in _stage_params(model, s)]
                     for s in range(4)]
    stats_before = [[m.running_mean.clone() for m in _stage_norms(model, s)]
                    for s in range(4)]
    optimizer = torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=0.1)
    (feat, ) = model(torch.rand(2, 3, 107, 107))
    feat.mean().backward()
    optimizer.step()
    for stage in range(4):
        frozen = stage <= frozen_stages
        for param, before in zip(_stage_params(model, stage),
                                 frozen_before[stage]):
            assert param.requires_grad is not frozen
            assert torch.equal(param, before) is frozen
        for norm, before in zip(_stage_norms(model, stage),
                                stats_before[stage]):
            assert norm.training is not frozen
            assert torch.equal(norm.running_mean, before) is frozen


def test_norm_eval_keeps_running_statistics():
    model = InceptionV3(norm_eval=True)
    model.train()
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert norms and not any(m.training for m in norms)
    means = [m.running_mean.clone() for m in norms]
    model(torch.rand(2, 3, 107, 107))
    assert all(torch.equal(m.running_mean, b) for m, b in zip(norms, means))
    # Convolutions still train.
    assert all(p.requires_grad for p in model.parameters())
    model.eval()
    assert not any(m.training for m in model.modules())


def test_without_norm_eval_statistics_update():
    model = InceptionV3()
    model.train()
    norm = model.Conv2d_1a_3x3.bn
    before = norm.running_mean.clone()
    model(torch.rand(2, 3, 107, 107))
    assert not torch.equal(norm.running_mean, before)


def test_forward_stops_at_last_requested_stage():
    model = InceptionV3(out_indices=(1, )).eval()
    called = []
    model.Mixed_6a.register_forward_hook(lambda *args: called.append(1))
    model(torch.rand(1, 3, 107, 107))
    assert not called


def test_options_reach_every_block_through_constructors():
    """norm_cfg and pool_count_include_pad are passed down when the blocks
    are built, not patched in afterwards: every convolution's norm layer
    has the configured type and momentum, every pooling block the
    configured padding rule, and the pooling result follows it."""
    model = InceptionV3(
        norm_cfg=dict(type='BN', eps=1e-3, momentum=0.004),
        pool_count_include_pad=False)
    convs = [m for m in model.modules() if isinstance(m, BasicConv2d)]
    assert len(convs) == 94
    assert {(type(c.bn), c.bn.momentum, c.bn.eps) for c in convs} == {
        (torch.nn.BatchNorm2d, 0.004, 1e-3)}
    pooling = {name: m.count_include_pad for name, m in model.named_modules()
               if hasattr(m, 'count_include_pad')}
    assert sorted(pooling) == [
        'Mixed_5b', 'Mixed_5c', 'Mixed_5d', 'Mixed_6b', 'Mixed_6c',
        'Mixed_6d', 'Mixed_6e', 'Mixed_7b', 'Mixed_7c']
    assert set(pooling.values()) == {False}
    # a block built on its own takes the same options: with padding
    # excluded the corner's mean of ones stays one
    block = InceptionA(4, pool_features=2, count_include_pad=False).eval()
    pooled = []
    block.branch_pool.register_forward_hook(
        lambda module, args, output: pooled.append(args[0]))
    with torch.no_grad():
        block(torch.ones(1, 4, 3, 3))
    assert torch.equal(pooled[0], torch.ones(1, 4, 3, 3))
    sync = InceptionV3(norm_cfg=dict(type='SyncBN', eps=1e-3))
    assert {type(m.bn).__name__ for m in sync.modules()
            if isinstance(m, BasicConv2d)} == {'SyncBatchNorm'}


def record_every_module(network, prefix=''):
    """Forward hooks on every named module of ``network``: what each was
    called with and returned, one entry per call, by name."""
    calls, handles = {}, []
    for name, module in network.named_modules(prefix=prefix):
        if module is network:
            continue

        def record(module, args, output, name=name):
            # copies: the next ReLU works in place on a BatchNorm's output
            calls.setdefault(name, []).append(
                (args[0].clone(), output.clone()))

        handles.append(module.register_forward_hook(record))
    return calls, handles


@pytest.mark.parametrize('train', [False, True])
def test_every_module_sees_what_its_torchvision_namesake_sees(
        torchvision_pair, train):
    """A hook, an observer or a feature extractor gets what a module's name
    promises: every named module of the backbone is called once per
    forward pass, with the input and output of torchvision's module of the
    same name, bit for bit (the same operations in the same order), in
    evaluation and in training (batch statistics)."""
    reference, backbone, _ = (copy.deepcopy(m) for m in torchvision_pair)
    reference.AuxLogits = None  # the head's, and too big for this input
    reference.train(train)
    backbone.train(train)
    x = torch.randn(2, 3, 139, 139,
                    generator=torch.Generator().manual_seed(2))
    ours, our_handles = record_every_module(backbone)
    theirs, their_handles = record_every_module(reference)
    with torch.no_grad():
        backbone(x)
        reference(x)
    names = [name for name, _ in backbone.named_modules() if name]
    assert len(names) == 3 * 94 + 11 + 2  # BasicConv2d, blocks, max pools
    assert sorted(ours) == sorted(names)  # every module called
    for name in names:
        assert len(ours[name]) == len(theirs[name]) == 1, name
        (our_input, our_output), = ours[name]
        (their_input, their_output), = theirs[name]
        assert torch.equal(our_input, their_input), name
        assert torch.equal(our_output, their_output), name
    for handle in our_handles + their_handles:
        handle.remove()


@pytest.mark.parametrize('count_include_pad', [True, False])
def test_pool_branch_convolves_the_pooled_input(count_include_pad):
    """``Mixed_*.branch_pool`` reads the 3x3 average pool of the block's
    input, as in the paper and in torchvision, with the padding rule the
    block was built with."""
    block = InceptionA(6, pool_features=4,
                       count_include_pad=count_include_pad).eval()
    x = torch.randn(2, 6, 5, 7)
    seen = []
    block.branch_pool.conv.register_forward_hook(
        lambda module, args, output: seen.append(args[0]))
    with torch.no_grad():
        block(x)
    expected = torch.nn.functional.avg_pool2d(
        x, 3, stride=1, padding=1, count_include_pad=count_include_pad)
    assert torch.equal(seen[0], expected)
