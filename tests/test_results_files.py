"""Result files (``tools/test.py --out``) are read without running
anything in them, by every tool that reads one, and move between our tools
and mmpretrain's both ways."""
import os
import os.path as osp
import pickle

import mmpretrain
import pytest
import torch
from helpers.tools import (REPO, TINY_CONFIG, call_script, call_tool,
                           one_line_error)

from mmpre_inception.evaluation import load_results

MMPRETRAIN_TOOLS = osp.join(osp.dirname(mmpretrain.__file__), '.mim',
                            'tools')
# Each reader's arguments around the result file, as its --help writes.
READERS = {
    'eval_metric.py': ([], []),
    'confusion_matrix.py': ([TINY_CONFIG], ['--show-path', 'cm.png']),
    'analyze_results.py': ([TINY_CONFIG], ['--out-dir', 'galleries']),
}


class _RunsCommand:
    """Unpickling this runs a shell command: a real payload."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


@pytest.mark.parametrize('tool', list(READERS))
def test_a_result_file_with_a_payload_is_refused_by_every_reader(
        tool, evaluated, tmp_path):
    _, out, _ = evaluated
    samples = load_results(out)
    marker = tmp_path / 'payload_ran'
    # A real result file with one object that runs a command when read.
    samples[0]['img_path'] = _RunsCommand(marker)
    evil = tmp_path / 'preds.pkl'
    evil.write_bytes(pickle.dumps(samples, protocol=2))
    before, after = READERS[tool]
    result = call_tool(osp.join(REPO, 'tools', 'analysis_tools', tool),
                       *before, str(evil), *after, cwd=str(tmp_path))
    assert not marker.exists()
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip() == (
        f'error: refusing to read {evil}: it asks to unpickle posix.system, '
        'which a tools/test.py --out file never holds and which could run '
        'code; nothing in it was run')
    assert not (tmp_path / 'cm.png').exists()


def test_a_tensor_storage_hiding_a_payload_is_refused(tmp_path):
    """A tensor's storage is itself a torch.save stream: read with torch's
    own safe loader, never plain pickle."""
    marker = tmp_path / 'payload_ran'

    class HiddenInStorage:

        def __reduce__(self):
            return (torch.storage._load_from_bytes,
                    (pickle.dumps(_RunsCommand(marker)), ))

    path = tmp_path / 'preds.pkl'
    path.write_bytes(pickle.dumps([{'pred_score': HiddenInStorage()}]))
    result = call_tool('tools/analysis_tools/eval_metric.py', str(path))
    assert not marker.exists()
    assert result.returncode == 1
    assert 'a tensor storage holding other objects' in result.stderr


def test_other_files_are_named_as_not_result_files(tmp_path):
    for name, data in (('dict.pkl', pickle.dumps({'not': 'a list'})),
                       ('text.pkl', b'not a pickle'),
                       ('samples.pkl', pickle.dumps([{'pred_label': 1}]))):
        path = tmp_path / name
        path.write_bytes(data)
        result = call_tool('tools/analysis_tools/eval_metric.py', str(path))
        line = one_line_error(result, status=1, alone=True)
        assert line.startswith(f'error: {path}: not a tools/test.py --out '
                               'file') or line.startswith(
                                   f'error: cannot read {path}: not a '
                                   'tools/test.py --out file'), line


def test_mmpretrains_confusion_matrix_reads_our_result_file(evaluated,
                                                            tmp_path):
    _, out, _ = evaluated
    counts = tmp_path / 'cm.pkl'
    call_script(osp.join(MMPRETRAIN_TOOLS, 'analysis_tools',
                         'confusion_matrix.py'), TINY_CONFIG, out, '--out',
                str(counts))
    with open(counts, 'rb') as f:
        theirs = pickle.load(f)
    samples = load_results(out)
    ours = torch.zeros_like(theirs)
    for sample in samples:
        ours[int(sample['gt_label']), int(sample['pred_label'])] += 1
    assert torch.equal(theirs, ours) and ours.sum() == len(samples)
