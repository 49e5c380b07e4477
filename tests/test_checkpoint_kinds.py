"""Every kind of checkpoint a user brings, through every command that reads
one: a result, or the documented one-line error, never a traceback.

The checkpoint path is one (``read_checkpoint`` then ``fit_checkpoint``,
run by the Runner before any hook sees the file), so a kind that works in
one tool works in all; each tool is still driven with each kind, because a
hook or a tool's own code may read the file first.
"""
import os
import os.path as osp
import zipfile

import numpy as np
import pytest
import torch
from helpers.tools import TINY_CONFIG, call_tool, one_line_error

from mmpre_inception.checkpoint import load_checkpoint_file, read_checkpoint


class _RunsCommand:
    """Unpickling this runs a shell command: a real payload."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


class _AsksForAttribute:
    """A pickle asking for ``getattr(numpy.ndarray, 'tofile')``."""

    def __reduce__(self):
        return getattr, (np.ndarray, 'tofile')


# kind -> the start of its one-line error ({path} is the file), or None
# for a kind that loads.
GOOD = ('runner', 'flat', 'safetensors', 'mmpretrain_layout', 'model_key',
        'ema_state_dict_only', 'state_dict_ema_only', 'ddp_prefix')
BAD = {
    'torchvision_unconverted': 'checkpoint {path} does not fit the model',
    'timm_safetensors_unconverted': 'checkpoint {path} does not fit the '
    'model',
    'resnet18': 'checkpoint {path} does not fit the model',
    'state_dict_is_a_list': "cannot use checkpoint {path}: its 'state_dict' "
    'holds a list, not a mapping of names to tensors',
    'bare_tensor': 'cannot use checkpoint {path}: it holds a Tensor, not a '
    'state dict',
    'zip_of_other_files': 'cannot read checkpoint {path}: the file is '
    'truncated or not a PyTorch checkpoint',
    'truncated': 'cannot read checkpoint {path}: the file is truncated or '
    'not a PyTorch checkpoint',
    'payload': 'refusing to load {path}: it holds pickled Python objects '
    'outside the allow-list',
    'getattr_tofile': 'refusing to load {path}: it holds pickled Python '
    'objects outside the allow-list',
    'negative_running_var': 'checkpoint {path} holds BatchNorm running '
    'variances below zero',
    'nan_weights': 'checkpoint {path} holds NaN or infinite values',
}
HINTS = {
    'torchvision_unconverted': 'convert it first with tools/'
    'model_converters/torchvision2mmpre_inception.py',
    'timm_safetensors_unconverted': 'convert it first with tools/'
    'model_converters/torchvision2mmpre_inception.py (or '
    'timm2mmpre_inception.py',
    'resnet18': 'Is it a checkpoint of another architecture?',
}


@pytest.fixture(scope='module')
def kinds(one_epoch_run, tmp_path_factory):
    """``{kind: path}`` for every kind above, made from the tiny model's
    trained checkpoint."""
    import torchvision
    from safetensors.torch import save_file
    folder = tmp_path_factory.mktemp('kinds')
    runner = osp.join(one_epoch_run, 'epoch_1.pth')
    weights = load_checkpoint_file(runner)['state_dict']
    paths = {'runner': runner}

    def save(kind, obj, suffix='.pth'):
        paths[kind] = str(folder / f'{kind}{suffix}')
        torch.save(obj, paths[kind])

    save('flat', weights)
    paths['safetensors'] = str(folder / 'ours.safetensors')
    save_file({k: v.contiguous() for k, v in weights.items()},
              paths['safetensors'])
    save('mmpretrain_layout', {'state_dict': {
        key.replace('head.', 'backbone.', 1): value
        for key, value in weights.items()}})
    save('model_key', {'model': weights, 'epoch': 3})
    save('ema_state_dict_only', {'ema_state_dict': dict(
        {f'module.{k}': v for k, v in weights.items()},
        steps=torch.tensor(5))})
    save('state_dict_ema_only', {'state_dict_ema': weights})
    save('ddp_prefix', {'state_dict': {f'module.{k}': v
                                       for k, v in weights.items()}})
    tv = torchvision.models.inception_v3(weights=None, aux_logits=True,
                                         init_weights=False).state_dict()
    save('torchvision_unconverted', tv)
    paths['timm_safetensors_unconverted'] = str(folder / 'timm.safetensors')
    save_file({k: v.contiguous() for k, v in tv.items()
               if not k.endswith('num_batches_tracked')},
              paths['timm_safetensors_unconverted'])
    save('resnet18', torchvision.models.resnet18().state_dict())
    save('state_dict_is_a_list', {'state_dict': [1, 2]})
    save('bare_tensor', torch.zeros(3))
    paths['zip_of_other_files'] = str(folder / 'zip.pth')
    with zipfile.ZipFile(paths['zip_of_other_files'], 'w') as archive:
        archive.writestr('notes.txt', 'not a checkpoint')
    paths['truncated'] = str(folder / 'truncated.pth')
    with open(runner, 'rb') as f:
        data = f.read()
    with open(paths['truncated'], 'wb') as f:
        f.write(data[:len(data) // 2])
    marker = folder / 'payload_ran'
    save('payload', {'state_dict': weights, 'meta': _RunsCommand(marker)})
    save('getattr_tofile', {'state_dict': weights,
                            'meta': _AsksForAttribute()})
    negative = dict(weights)
    key = 'backbone.Mixed_6e.branch1x1.bn.running_var'
    negative[key] = -negative[key]
    save('negative_running_var', {'state_dict': negative})
    nan = dict(weights)
    nan['head.fc.bias'] = torch.full_like(nan['head.fc.bias'], float('nan'))
    save('nan_weights', {'state_dict': nan})
    yield paths
    assert not marker.exists(), 'a checkpoint ran code'


def assert_one_line(result, kind: str, path: str, status: int = 1) -> None:
    line = one_line_error(result, BAD[kind].format(path=path), status)
    if kind in HINTS:
        assert HINTS[kind] in line, (kind, line)


@pytest.mark.slow
def test_test_tool_evaluates_every_good_kind_and_names_every_bad_one(
        kinds, tiny_options, tmp_path):
    scores = {}
    for kind in GOOD + tuple(BAD):
        result = call_tool('tools/test.py', TINY_CONFIG, kinds[kind],
                           '--work-dir', str(tmp_path / kind),
                           *tiny_options())
        if kind in BAD:
            assert_one_line(result, kind, kinds[kind])
            continue
        assert result.returncode == 0, (kind, result.stderr[-3000:])
        scores[kind] = result.stdout.strip().splitlines()[-1].split(': ', 1)[1]
    # The same weights in every good container: the same metrics.
    assert len(set(scores.values())) == 1, scores


@pytest.mark.slow
def test_demo_export_resume_and_ensemble_name_each_stage_of_bad_kind(
        kinds, tiny_options, tmp_path):
    """The other commands, with a kind refused at each stage of reading
    (the file, the unpickler, the container, the fit, the values): the
    test tool above meets every kind on the same path."""
    image = osp.join(osp.dirname(TINY_CONFIG), '..', '..', 'demo',
                     'star.jpg')
    for kind in ('truncated', 'payload', 'bare_tensor',
                 'torchvision_unconverted', 'nan_weights'):
        path = kinds[kind]
        commands = {
            'demo': ('demo/image_demo.py', image, TINY_CONFIG, path),
            'onnx': ('tools/deployment/pytorch2onnx.py', TINY_CONFIG, path,
                     '--output-file', str(tmp_path / 'x.onnx')),
            'resume': ('tools/train.py', TINY_CONFIG, '--resume', path,
                       '--work-dir', str(tmp_path / 'train'),
                       *tiny_options()),
            'ensemble': ('tools/test.py', TINY_CONFIG, kinds['runner'],
                         '--ensemble', TINY_CONFIG, path, '--work-dir',
                         str(tmp_path / 'ensemble'), *tiny_options()),
        }
        for name, command in commands.items():
            assert_one_line(call_tool(*command), kind, path)
    assert not (tmp_path / 'x.onnx').exists()


@pytest.mark.slow
def test_good_kinds_load_in_the_demo_and_the_export(kinds, tmp_path):
    image = osp.join(osp.dirname(TINY_CONFIG), '..', '..', 'demo',
                     'star.jpg')
    tops = set()
    for kind in GOOD:
        result = call_tool('demo/image_demo.py', image, TINY_CONFIG,
                           kinds[kind], '--topk', '1', check=True)
        tops.add(result.stdout.strip())
    assert len(tops) == 1, tops
    call_tool('tools/deployment/pytorch2onnx.py', TINY_CONFIG,
              kinds['safetensors'], '--output-file', str(tmp_path / 'x.onnx'),
              '--shape', '80', check=True)
    assert (tmp_path / 'x.onnx').stat().st_size > 1e6


@pytest.mark.slow
def test_resume_from_a_weights_file_says_to_start_from_it(kinds,
                                                          tiny_options,
                                                          tmp_path):
    result = call_tool('tools/train.py', TINY_CONFIG, '--resume',
                       kinds['flat'], '--work-dir', str(tmp_path),
                       *tiny_options())
    assert one_line_error(result, status=1) == (
        f'error: cannot resume from {kinds["flat"]}: it holds weights '
        'without the training state (no message_hub, optimizer); start a '
        f'new run from its weights with --cfg-options load_from='
        f'{kinds["flat"]} instead of --resume')


def test_fine_tuning_starts_from_a_weights_file_with_one_line(
        kinds, tiny_options, tmp_path):
    """load_from of a file without ema_state_dict: the weight average starts
    from the loaded weights, said once."""
    result = call_tool('tools/train.py', TINY_CONFIG, '--work-dir',
                       str(tmp_path), *tiny_options(
                           f'load_from={kinds["safetensors"]}',
                           'train_cfg.max_epochs=1'),
                       check=True)
    log = result.stdout + result.stderr
    assert log.count('The weight average starts from the loaded weights') \
        == 1


def test_ddp_prefix_and_other_containers_are_said_in_the_log(kinds,
                                                             tiny_options,
                                                             tmp_path):
    for kind, said in (('ddp_prefix', "took the 'module.' prefix"),
                       ('state_dict_ema_only',
                        "the weights are its 'state_dict_ema'")):
        result = call_tool('tools/test.py', TINY_CONFIG, kinds[kind],
                           '--work-dir', str(tmp_path / kind),
                           *tiny_options(), check=True)
        assert said in result.stdout + result.stderr


def test_a_pretrained_url_that_cannot_be_fetched_is_one_line(
        tiny_options, tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    url = 'http://127.0.0.1:9/inception_v3.pth'  # the discard port
    result = call_tool('tools/train.py', TINY_CONFIG, '--work-dir',
                       str(tmp_path / 'w'), *tiny_options(
                           'model.backbone.init_cfg.type=Pretrained',
                           f'model.backbone.init_cfg.checkpoint={url}',
                           'model.backbone.init_cfg.prefix=backbone'))
    line = one_line_error(result, status=1)
    assert line.startswith(f'error: cannot download checkpoint {url} (')
    assert line.endswith('give the local file instead: --cfg-options '
                         'model.backbone.init_cfg.checkpoint=FILE')


def test_result_file_kinds_are_read_safely(kinds, tmp_path):
    """Not a checkpoint at all: a checkpoint given where a result file is
    expected is named as not a result file."""
    result = call_tool('tools/analysis_tools/eval_metric.py', kinds['flat'])
    assert result.returncode == 1
    assert result.stderr.strip().startswith(
        f'error: cannot read {kinds["flat"]}: not a tools/test.py --out file')


def mapped_from(tensor: torch.Tensor, path: str) -> bool:
    """Whether ``tensor``'s memory lies in a mapping of the file ``path``
    in this process (``/proc/self/maps``)."""
    address, path = tensor.data_ptr(), osp.realpath(path)
    with open('/proc/self/maps') as f:
        for line in f:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].strip() == path:
                start, end = (int(x, 16) for x in fields[0].split('-'))
                if start <= address < end:
                    return True
    return False


def test_a_test_run_maps_the_checkpoint_and_a_resume_reads_it(
        one_epoch_run, shapes_root, tmp_path):
    """A Runner that only loads weights (a test, a fine-tune's start)
    maps the file: it copies the weights into the model, and the
    optimizer's state and the average's copy are never read. A resume
    reads it: the optimizer keeps its state, which must own its memory
    rather than hold the file (max_keep_ckpts deletes it later)."""
    from mmpre_inception.engine import ConsoleSummaryRunner
    from mmpre_inception.utils import load_config
    checkpoint = osp.join(one_epoch_run, 'epoch_1.pth')
    cfg = load_config(TINY_CONFIG, {
        **{f'{loader}.dataset.data_root': shapes_root
           for loader in ('train_dataloader', 'val_dataloader',
                          'test_dataloader')},
        'work_dir': str(tmp_path)})
    saved = load_checkpoint_file(checkpoint, mmap=True)['optimizer']['state']
    # read_checkpoint maps unless told to read (what init_model and the
    # converters use)
    assert mapped_from(read_checkpoint(checkpoint)['state_dict'][
        'head.fc.weight'], checkpoint)
    assert not mapped_from(read_checkpoint(checkpoint, mmap=False)[
        'state_dict']['head.fc.weight'], checkpoint)

    loaded = ConsoleSummaryRunner.from_cfg(cfg.copy()).load_checkpoint(
        checkpoint)
    exp_avg = loaded['optimizer']['state'][0]['exp_avg']
    assert mapped_from(exp_avg, checkpoint)
    torch.testing.assert_close(exp_avg, saved[0]['exp_avg'], rtol=0, atol=0)
    del loaded, exp_avg

    cfg.resume, cfg.load_from = True, checkpoint
    runner = ConsoleSummaryRunner.from_cfg(cfg)
    # what Runner.train builds before it resumes
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    runner.param_schedulers = runner.build_param_scheduler(
        runner.param_schedulers)
    runner.call_hook('before_run')
    runner.load_or_resume()
    state = runner.optim_wrapper.optimizer.state_dict()['state']
    assert state.keys() == saved.keys()
    for index, values in state.items():
        for name, value in values.items():
            assert not mapped_from(value, checkpoint), (index, name)
            torch.testing.assert_close(value, saved[index][name], rtol=0,
                                       atol=0)
