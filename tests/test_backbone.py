import copy
from functools import partial

import pytest
import torch
import torchvision
from helpers.numerics import (assert_within_rounding, calibrate,
                              float64_copy)
from torch.nn.modules.batchnorm import _BatchNorm

from mmpre_inception.analysis.training_step import AtenCallCounter
from mmpre_inception.models import InceptionV3, InceptionV3Head
from mmpre_inception.models.backbones.inception_v3 import (BasicConv2d,
                                                           InceptionA,
                                                           InceptionC,
                                                           InceptionD,
                                                           InceptionE)

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
    rounding of torchvision's own float32 result (the pooling branches pool
    after their convolution, which rounds differently)."""
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
    with torch.no_grad():  # positive, so the ReLU does not hide the pool
        block.branch_pool.conv.weight.fill_(1)
    ones = torch.ones(1, 4, 3, 3)
    torch.testing.assert_close(block.pool_branch(ones),
                               block.branch_pool(ones), rtol=0, atol=0)
    sync = InceptionV3(norm_cfg=dict(type='SyncBN', eps=1e-3))
    assert {type(m.bn).__name__ for m in sync.modules()
            if isinstance(m, BasicConv2d)} == {'SyncBatchNorm'}


def assert_same_forward_and_backward(run, reference_run, x, module,
                                     reference_module):
    """``run(x)`` gives ``reference_run(x)`` (float64, so within 1e-12 where
    the two differ only by rounding), and one backward pass through each
    gives the same gradient of ``x``, the same gradients of ``module``'s
    parameters as of ``reference_module``'s, and the same buffers
    (BatchNorm statistics)."""
    close = partial(torch.testing.assert_close, rtol=1e-12, atol=1e-12)
    x = x.detach().requires_grad_(True)
    expected = reference_run(x)
    weights = torch.randn_like(expected)
    (expected * weights).sum().backward()
    x_grad, x.grad = x.grad, None
    got = run(x)
    close(got, expected)
    (got * weights).sum().backward()
    close(x.grad, x_grad)
    for (name, ours), theirs in zip(module.named_parameters(),
                                    reference_module.parameters()):
        close(ours.grad, theirs.grad, msg=name)
    for (name, ours), theirs in zip(module.named_buffers(),
                                    reference_module.buffers()):
        close(ours, theirs, msg=name)


@pytest.mark.parametrize('count_include_pad', [True, False])
@pytest.mark.parametrize('folded', [False, True])
def test_pool_branch_is_the_paper_s_pool_then_convolution(
        count_include_pad, folded):
    """The pooling branch pools after its 1x1 convolution (fewer channels)
    and gives what the paper's order gives: the same outputs, gradients and
    BatchNorm statistics, a folded bias included (in float64, where the
    two orders differ only by rounding)."""
    torch.manual_seed(0)
    block = InceptionA(6, pool_features=4,
                       count_include_pad=count_include_pad).double()
    branch = block.branch_pool
    if folded:
        branch.conv.bias = torch.nn.Parameter(torch.randn(4).double())
    x = torch.randn(3, 6, 5, 7, dtype=torch.float64)
    reference = copy.deepcopy(branch)
    assert_same_forward_and_backward(
        block.pool_branch,
        lambda x: reference(torch.nn.functional.avg_pool2d(
            x, 3, stride=1, padding=1, count_include_pad=count_include_pad)),
        x, branch, reference)


# Each block's convolutions, and how many of them read the block's input
# through a 1x1 convolution (merged into one on a CPU in NCHW).
MERGING_BLOCKS = {
    'InceptionA': (lambda: InceptionA(6, pool_features=4), 7, 4),
    'InceptionC': (lambda: InceptionC(6, channels_7x7=4), 10, 4),
    'InceptionD': (lambda: InceptionD(6), 6, 2),
    'InceptionE': (lambda: InceptionE(6), 9, 4),
}


def _convolutions(block, x):
    with AtenCallCounter() as counter:
        block(x)
    return counter.counts['aten.convolution']


@pytest.mark.parametrize('name', sorted(MERGING_BLOCKS))
def test_merged_1x1_convolutions_compute_the_separate_branches(name):
    """On a CPU in NCHW the 1x1 convolutions that read a block's input run
    as one: the same outputs, input and weight gradients and BatchNorm
    statistics as the branches run one by one (float64, where the two
    differ only by rounding), in fewer convolution calls."""
    build, convs, merged = MERGING_BLOCKS[name]
    torch.manual_seed(0)
    block = build().double().train()
    separate = copy.deepcopy(block)
    for module in separate.modules():  # a hook keeps a convolution apart
        if isinstance(module, torch.nn.Conv2d):
            module.register_forward_hook(lambda *args: None)
    x = torch.randn(3, 6, 9, 11, dtype=torch.float64)
    assert _convolutions(block, x) == convs - merged + 1
    assert _convolutions(separate, x) == convs
    assert_same_forward_and_backward(block, separate, x, block, separate)


def test_1x1_convolutions_stay_apart_where_merging_does_not_pay():
    """Channels-last input, a bias (folded BatchNorm) or a hook on one of
    the convolutions or branches keep every convolution a call of its own,
    and the hook runs."""
    build, convs, _ = MERGING_BLOCKS['InceptionA']
    x = torch.randn(2, 6, 9, 9)
    block = build().eval()
    assert _convolutions(
        block, x.contiguous(memory_format=torch.channels_last)) == convs
    seen = []
    block.branch5x5_1.conv.register_forward_hook(
        lambda module, args, output: seen.append(output.shape))
    assert _convolutions(block, x) == convs
    assert seen == [torch.Size([2, 48, 9, 9])]
    hooked = build().eval()  # on the branch, not its convolution
    hooked.branch_pool.register_forward_pre_hook(lambda *args: None)
    assert _convolutions(hooked, x) == convs
    biased = build().eval()
    biased.branch1x1.conv.bias = torch.nn.Parameter(torch.zeros(64))
    assert _convolutions(biased, x) == convs
