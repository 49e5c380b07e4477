import hashlib
import os.path as osp
import re

import torch
from helpers.tools import call_tool
from mmengine.logging import HistoryBuffer

from mmpre_inception.checkpoint import load_checkpoint_file


def _runner_checkpoint(path):
    buffer = HistoryBuffer()
    buffer.update(0.5)
    state = {'backbone.w': torch.randn(3, 3), 'head.fc.bias': torch.randn(4)}
    torch.save({
        'meta': {'epoch': 3, 'dataset_meta': {'classes': ('a', 'b')}},
        'state_dict': state,
        'optimizer': {'state': {}, 'param_groups': [{'lr': 0.1}]},
        'message_hub': {'log_scalars': {'train/loss': buffer}},
        'param_schedulers': [{'last_step': 3}],
    }, path)
    return state


def test_publish_keeps_weights_and_meta_and_names_by_sha256(tmp_path):
    source = tmp_path / 'epoch_3.pth'
    state = _runner_checkpoint(source)
    result = call_tool('tools/model_converters/publish_model.py', str(source),
                       str(tmp_path / 'out' / 'inception_v3_in1k.pth'),
                       check=True)
    path = re.search(r'Published (\S+)', result.stdout).group(1)
    name = osp.basename(path)
    assert re.fullmatch(r'inception_v3_in1k-[0-9a-f]{8}\.pth', name)
    with open(path, 'rb') as f:
        assert hashlib.sha256(f.read()).hexdigest()[:8] == name[-12:-4]
    published = load_checkpoint_file(path)
    assert set(published) == {'state_dict', 'meta'}
    assert published['meta']['epoch'] == 3
    for key, value in state.items():
        assert torch.equal(published['state_dict'][key], value)
    assert [p.name for p in (tmp_path / 'out').iterdir()] == [name]


def test_publish_names_a_missing_file(tmp_path):
    result = call_tool('tools/model_converters/publish_model.py',
                       str(tmp_path / 'nope.pth'), str(tmp_path / 'x.pth'))
    assert result.returncode == 2
    assert result.stderr.strip() == \
        f'error: checkpoint file not found: {tmp_path / "nope.pth"}'
