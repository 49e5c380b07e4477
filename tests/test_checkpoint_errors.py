"""Checkpoints that cannot be used are refused with a clear message."""
import argparse
import os
import os.path as osp

import pytest
import torch
from helpers.tools import TINY_CONFIG, call_tool, one_line_error

from mmpre_inception.checkpoint import (CheckpointError, load_checkpoint_file,
                                        name_checkpoint_file)


def load_into(model, weights, path):
    """Load as mmengine's Runner does (strict=False); the model checks."""
    try:
        model.load_state_dict(dict(weights), strict=False)
    except CheckpointError as error:
        raise name_checkpoint_file(error, path) from None


class _RunsCommand:
    """Unpickling this runs a shell command: a real payload."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


@pytest.fixture(scope='module')
def weights(one_epoch_run):
    """The tiny model's trained weights (10 classes)."""
    return load_checkpoint_file(
        osp.join(one_epoch_run, 'epoch_1.pth'))['state_dict']


@pytest.fixture(scope='module')
def model(weights):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from mmpre_inception.registry import MODELS
    cfg = Config.fromfile(TINY_CONFIG)
    with DefaultScope.overwrite_default_scope('mmpre_inception'):
        return MODELS.build(cfg.model)


def test_fitting_checkpoint_passes(model, weights):
    load_into(model, weights, 'ok.pth')
    # mmpretrain's published checkpoint has no auxiliary classifier.
    without_aux = {k: v for k, v in weights.items()
                   if not k.startswith('head.AuxLogits.')}
    load_into(model, without_aux, 'noaux.pth')
    without_stem = {k: v for k, v in weights.items()
                    if not k.startswith('backbone.Conv2d_1a_3x3.')}
    with pytest.raises(CheckpointError,
                       match=r'^checkpoint nostem.pth does not fit the model: '
                       r'6 missing: backbone.Conv2d_1a_3x3.conv.weight, '):
        load_into(model, without_stem, 'nostem.pth')


def test_classifier_size_mismatch_is_listed(model, weights):
    wide = dict(weights)
    wide['head.fc.weight'] = torch.zeros(1000, 2048)
    wide['head.fc.bias'] = torch.zeros(1000)
    with pytest.raises(CheckpointError) as error:
        load_into(model, wide, 'in1k.pth')
    message = str(error.value)
    assert message.startswith('checkpoint in1k.pth does not fit the model: '
                              '2 with another shape: head.fc.weight '
                              '(1000, 2048) in the checkpoint, (10, 2048) in '
                              'the model, head.fc.bias (1000,) in the '
                              'checkpoint, (10,) in the model.')
    assert 'classifies 1000 classes and the config 10' in message


def test_other_architecture_is_recognised(model):
    import torchvision
    resnet = torchvision.models.resnet18().state_dict()
    with pytest.raises(CheckpointError,
                       match='another architecture') as error:
        load_into(model, resnet, 'resnet.pth')
    assert 'unexpected: conv1.weight' in str(error.value)


def test_truncated_and_missing_files(tmp_path, one_epoch_run):
    source = osp.join(one_epoch_run, 'epoch_1.pth')
    truncated = tmp_path / 'cut.pth'
    with open(source, 'rb') as f:
        truncated.write_bytes(f.read()[:4096])
    with pytest.raises(CheckpointError,
                       match=f'cannot read checkpoint {truncated}: the file '
                       'is truncated or not a PyTorch checkpoint'):
        load_checkpoint_file(str(truncated))
    with pytest.raises(CheckpointError,
                       match='checkpoint file not found: nope.pth'):
        load_checkpoint_file('nope.pth')


def test_payload_is_refused_with_a_way_forward(tmp_path):
    marker = tmp_path / 'payload_ran'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'x': _RunsCommand(marker)}, path)
    with pytest.raises(CheckpointError) as error:
        load_checkpoint_file(str(path))
    message = str(error.value)
    assert message.startswith(f'refusing to load {path}: it holds pickled '
                              'Python objects outside the allow-list')
    assert 'system' in message
    assert '--trust-pickle' in message
    assert not marker.exists()


@pytest.mark.slow
def test_tools_refuse_bad_checkpoints_with_one_line(
        tmp_path, one_epoch_run, tiny_options, weights):
    marker = tmp_path / 'payload_ran'
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': weights, 'meta': _RunsCommand(marker)}, evil)
    wide = dict(weights, **{'head.fc.weight': torch.zeros(1000, 2048),
                            'head.fc.bias': torch.zeros(1000)})
    in1k = tmp_path / 'in1k.pth'
    torch.save({'state_dict': wide}, in1k)
    for checkpoint, start in [
            (evil, f'error: refusing to load {evil}: it holds pickled'),
            (in1k, f'error: checkpoint {in1k} does not fit the model: 2 '
             'with another shape: head.fc.weight (1000, 2048)')]:
        result = call_tool('tools/test.py', TINY_CONFIG, str(checkpoint),
                           '--work-dir', str(tmp_path / 'test'),
                           *tiny_options())
        assert one_line_error(result, status=1).startswith(start)
        # In this process (the same code as the command line above).
        result = call_tool('tools/train.py', TINY_CONFIG, '--resume',
                           str(checkpoint), '--work-dir',
                           str(tmp_path / 'train'), *tiny_options())
        assert one_line_error(result, status=1).startswith(start)
    assert not marker.exists()


def test_trusted_file_is_rewritten_as_plain_tensors(tmp_path, weights):
    """The way forward the refusal names: --trust-pickle rewrites a file
    holding an arbitrary (here harmless) object so it loads safely."""
    source = tmp_path / 'trusted.pth'
    torch.save({'state_dict': weights,
                'meta': {'args': argparse.Namespace(lr=0.1), 'epoch': 3}},
               source)
    with pytest.raises(CheckpointError, match='refusing to load'):
        load_checkpoint_file(str(source))
    result = call_tool('tools/model_converters/publish_model.py',
                       str(source), str(tmp_path / 'clean.pth'),
                       '--trust-pickle', check=True)
    published = result.stdout.split('Published ')[1].strip()
    clean = load_checkpoint_file(published)
    assert clean['meta'] == {'epoch': 3}
    for key, value in weights.items():
        assert torch.equal(clean['state_dict'][key], value)


def test_mmengine_load_paths_refuse_the_payload_too(tmp_path, model):
    """init_cfg=Pretrained, EMA and the Runner load through mmengine's
    loader, which relies on torch's weights_only=True default (torch >= 2.6,
    pinned in requirements/runtime.txt)."""
    from mmengine.runner import load_checkpoint
    marker = tmp_path / 'payload_ran'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'x': _RunsCommand(marker)}, path)
    with pytest.raises(Exception, match='Weights only load failed'):
        load_checkpoint(model, str(path))
    assert not marker.exists()


def test_bare_pickle_payload_is_refused_without_torchs_unsafe_advice(
        tmp_path):
    """pickle.dump writes a stream torch's safe loader cannot parse at all
    (no 'global' in its message); it is still a refused payload, and the
    message never relays "weights_only=False will likely succeed"."""
    import pickle
    marker = tmp_path / 'payload_ran'
    path = tmp_path / 'raw.pth'
    with open(path, 'wb') as f:
        pickle.dump({'state_dict': {}, 'x': _RunsCommand(marker)}, f)
    with pytest.raises(CheckpointError) as error:
        load_checkpoint_file(str(path))
    message = str(error.value)
    assert message.startswith(f'refusing to load {path}: it holds pickled '
                              'Python objects outside the allow-list')
    assert 'nothing in it was run' in message
    assert 'weights_only' not in message and 'succeed' not in message
    assert not marker.exists()
    text = tmp_path / 'notes.pth'
    text.write_text('not a checkpoint\n')
    with pytest.raises(CheckpointError) as error:
        load_checkpoint_file(str(text))
    assert str(error.value) == (f'cannot read checkpoint {text}: the file '
                                'is truncated or not a PyTorch checkpoint')


def test_torchvision_state_dict_names_the_converter(model):
    import torchvision
    raw = torchvision.models.inception_v3(weights=None, aux_logits=True,
                                          init_weights=False).state_dict()
    with pytest.raises(CheckpointError) as error:
        load_into(model, raw, 'inception_v3_google.pth')
    assert str(error.value).endswith(
        'It is a torchvision or timm Inception V3 state dict: convert it '
        'first with tools/model_converters/torchvision2mmpre_inception.py '
        "(or timm2mmpre_inception.py for timm's weights).")


def test_nonfinite_weights_are_refused(model, weights):
    diverged = dict(weights)
    diverged['backbone.Mixed_7c.branch1x1.conv.weight'] = torch.full_like(
        weights['backbone.Mixed_7c.branch1x1.conv.weight'], float('nan'))
    diverged['head.fc.bias'] = torch.full_like(weights['head.fc.bias'],
                                               float('inf'))
    with pytest.raises(CheckpointError) as error:
        load_into(model, diverged, 'nan.pth')
    assert str(error.value) == (
        'checkpoint nan.pth holds NaN or infinite values: 2 tensors: '
        'backbone.Mixed_7c.branch1x1.conv.weight, head.fc.bias. It was '
        'saved from a diverged run: use an earlier checkpoint')


def test_huge_finite_weights_are_not_called_infinite(model, weights):
    """Weights whose squares overflow float32 are still finite: loaded."""
    huge = dict(weights)
    huge['head.fc.bias'] = torch.full_like(weights['head.fc.bias'], 1e30)
    load_into(model, huge, 'huge.pth')
    assert torch.equal(model.head.fc.bias, huge['head.fc.bias'])
    load_into(model, weights, 'epoch_1.pth')  # the module's model as it was


def test_whole_module_file_is_published_as_its_weights(tmp_path, model):
    """The refusal of a torch.save(model) file suggests --trust-pickle;
    that must then work."""
    source = tmp_path / 'module.pth'
    torch.save(model, source)
    with pytest.raises(CheckpointError, match='--trust-pickle'):
        load_checkpoint_file(str(source))
    result = call_tool('tools/model_converters/publish_model.py',
                       str(source), str(tmp_path / 'clean.pth'),
                       '--trust-pickle', check=True)
    clean = load_checkpoint_file(
        result.stdout.split('Published ')[1].strip())
    for key, value in model.state_dict().items():
        assert torch.equal(clean['state_dict'][key], value), key
