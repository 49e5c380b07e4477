"""Our configs stand alone: mmpretrain's own tools and inferencer run them
as they are and give what ours give."""
import glob
import os
import os.path as osp
import pickle

import mmpretrain
import pytest
import torch
from helpers.tools import (MAIN_CONFIG, REPO, TINY_CONFIG, call_script,
                           call_tool)
from mmengine.config import Config

from mmpre_inception.apis import ImagePredictor
from mmpre_inception.checkpoint import load_checkpoint_file

pytestmark = pytest.mark.slow

# Where pip puts mmpretrain's tools (mim runs them from there).
MMPRETRAIN_TOOLS = osp.join(osp.dirname(mmpretrain.__file__), '.mim',
                            'tools')
IMAGES = 8
MMPRETRAIN_CONFIG = osp.join(osp.dirname(mmpretrain.__file__), '.mim',
                             'configs', 'inception_v3',
                             'inception-v3_8xb32_in1k.py')


def evaluate(tool, checkpoint, shapes_root, work_dir, *options,
             config=MAIN_CONFIG):
    """``tool`` in this process: ours through its ``main(argv)``,
    mmpretrain's as ``__main__`` with ``sys.argv`` (the command line's code
    after the interpreter's start-up)."""
    out = osp.join(work_dir, 'preds.pkl')
    run = call_tool if tool.startswith('tools/') else call_script
    result = run(
        tool, config, checkpoint, '--work-dir', work_dir, '--out', out,
        '--cfg-options', f'test_dataloader.dataset.data_root={shapes_root}',
        f'test_dataloader.dataset.indices={IMAGES}',
        'test_dataloader.batch_size=4', *options)
    assert result.returncode == 0, result.stderr[-3000:]
    with open(out, 'rb') as f:
        predictions = pickle.load(f)
    saved_config = osp.join(work_dir, osp.basename(config))
    return predictions, result.stdout + result.stderr, saved_config


@pytest.fixture(scope='module')
def ours(mmpretrain_checkpoint, shapes_root, tmp_path_factory):
    _, checkpoint = mmpretrain_checkpoint
    return evaluate('tools/test.py', checkpoint, shapes_root,
                    str(tmp_path_factory.mktemp('ours')),
                    'test_dataloader.num_workers=0')


@pytest.mark.parametrize('workers', [None, 0])
def test_mmpretrains_test_tool_gives_our_predictions(
        workers, ours, mmpretrain_checkpoint, shapes_root, tmp_path):
    """Its tools/test.py on our main config (the config's 5 workers, and
    num_workers=0 as on a CPU) and mmpretrain's checkpoint layout."""
    _, checkpoint = mmpretrain_checkpoint
    options = [] if workers is None else [
        f'test_dataloader.num_workers={workers}']
    theirs, log, saved_config = evaluate(
        osp.join(MMPRETRAIN_TOOLS, 'test.py'), checkpoint, shapes_root,
        str(tmp_path), *options)
    expected, _, our_saved_config = ours
    assert len(theirs) == len(expected) == IMAGES
    for got, want in zip(theirs, expected):
        assert got['img_path'] == want['img_path']
        torch.testing.assert_close(got['pred_score'], want['pred_score'])
    # The checkpoint loaded whole (the model checks it), with no warning.
    assert 'missing keys' not in log and 'unexpected key' not in log, log
    # Both saved configs record what was evaluated.
    for path in (saved_config, our_saved_config):
        assert Config.fromfile(path).load_from == checkpoint


def test_exact_mode_gives_mmpretrains_own_scores_bit_for_bit(
        mmpretrain_checkpoint, shapes_root, tmp_path):
    """``tools/test.py --nchw --no-fold-bn`` on our config computes what
    mmpretrain's own tools/test.py computes on its own config and model
    (the monolithic InceptionV3), the same operations in the same order:
    the same scores, bit for bit."""
    _, checkpoint = mmpretrain_checkpoint
    options = ['test_dataloader.num_workers=0']
    expected, _, _ = evaluate(
        osp.join(MMPRETRAIN_TOOLS, 'test.py'), checkpoint, shapes_root,
        str(tmp_path / 'theirs'), *options,
        'test_dataloader.persistent_workers=False',
        config=MMPRETRAIN_CONFIG)
    got, _, _ = evaluate('tools/test.py', checkpoint, shapes_root,
                         str(tmp_path / 'ours'), *options, '--nchw',
                         '--no-fold-bn')
    assert len(got) == len(expected) == IMAGES
    for ours_, theirs in zip(got, expected):
        assert ours_['img_path'] == theirs['img_path']
        assert torch.equal(ours_['pred_score'], theirs['pred_score'])


def test_mmpretrains_inferencer_gives_our_scores(one_epoch_run, shapes_root,
                                                 mmpretrain_checkpoint,
                                                 tmp_path):
    """ImageClassificationInferencer on a published checkpoint of ours.
    It reads class names from the checkpoint; the main config's data set
    is named (not given as a class), so it also builds from weights alone
    (mmpretrain then looks the data set up by name)."""
    from mmpretrain.apis import ImageClassificationInferencer
    published = call_tool('tools/model_converters/publish_model.py',
                          osp.join(one_epoch_run, 'epoch_1.pth'),
                          str(tmp_path / 'tiny.pth'), check=True)
    checkpoint = published.stdout.split('Published ')[1].strip()
    assert 'dataset_meta' in load_checkpoint_file(checkpoint,
                                                  mmap=True)['meta']
    images = sorted(glob.glob(osp.join(shapes_root, 'val', '*')))[::5]
    images.append(osp.join(REPO, 'demo', 'star.jpg'))
    inferencer = ImageClassificationInferencer(model=TINY_CONFIG,
                                               pretrained=checkpoint)
    predictor = ImagePredictor(TINY_CONFIG, checkpoint)
    for image in images:
        (theirs, ) = inferencer(image)
        (ours, ) = predictor(image, topk=10)
        assert theirs['pred_class'] == ours['class_name']
        scores = torch.zeros(10)
        for label, score, _ in ours['topk']:
            scores[label] = score
        torch.testing.assert_close(torch.as_tensor(theirs['pred_scores']),
                                   scores)
    weights_only = str(tmp_path / 'weights.pth')
    torch.save(load_checkpoint_file(checkpoint)['state_dict'], weights_only)
    ImageClassificationInferencer(model=TINY_CONFIG, pretrained=weights_only)
    # mmpretrain's layout, no dataset_meta: the main config's data set is
    # ImageNet, whose 1000 names it finds by the name the config gives
    _, in1k = mmpretrain_checkpoint
    inferencer = ImageClassificationInferencer(model=MAIN_CONFIG,
                                               pretrained=in1k)
    assert len(inferencer.classes) == 1000


def test_mmpretrains_train_tool_trains_and_resumes(one_epoch_run,
                                                   tiny_options, tmp_path):
    """Its tools/train.py continues our tools/train.py's first epoch: its
    --resume reads the Runner's checkpoint because the config's
    MMEngineSafeGlobalsHook allows mmengine's types for torch's
    weights_only loads."""
    work_dir = str(tmp_path)
    os.link(osp.join(one_epoch_run, 'epoch_1.pth'),
            osp.join(work_dir, 'epoch_1.pth'))
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work_dir, 'epoch_1.pth'))
    result = call_script(osp.join(MMPRETRAIN_TOOLS, 'train.py'), TINY_CONFIG,
                         '--work-dir', work_dir, '--resume',
                         *tiny_options('train_cfg.max_epochs=2'))
    assert 'resumed epoch: 1' in result.stdout + result.stderr
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        assert f.read() == osp.join(work_dir, 'epoch_2.pth')
    state = load_checkpoint_file(osp.join(work_dir, 'epoch_2.pth'), mmap=True)
    assert state['meta']['epoch'] == 2


def test_mmpretrains_tta_option_gives_our_tta_scores(one_epoch_run,
                                                     tiny_options, tmp_path):
    """Its tools/test.py --tta builds our config's tta_model (a registry
    name, so that its saved copy of the config can be written) around the
    mirror-image views it adds, and scores as our --tta does."""
    checkpoint = osp.join(one_epoch_run, 'epoch_1.pth')
    scores = []
    for tool in ('tools/test.py', osp.join(MMPRETRAIN_TOOLS, 'test.py')):
        out = str(tmp_path / f'{len(scores)}.pkl')
        run = call_tool if tool.startswith('tools/') else call_script
        result = run(tool, TINY_CONFIG, checkpoint, '--tta', '--work-dir',
                     str(tmp_path / str(len(scores))), '--out', out,
                     *tiny_options('test_dataloader.dataset.indices=4'))
        assert result.returncode == 0, result.stderr[-3000:]
        with open(out, 'rb') as f:
            scores.append([p['pred_score'] for p in pickle.load(f)])
    assert len(scores[0]) == len(scores[1]) == 4
    for ours, theirs in zip(*scores):
        torch.testing.assert_close(theirs, ours, rtol=0, atol=1e-5)


def test_our_tools_read_a_result_file_mmpretrains_test_tool_wrote(
        mmpretrain_checkpoint, shapes_root, tmp_path):
    _, checkpoint = mmpretrain_checkpoint
    theirs, _, _ = evaluate(osp.join(MMPRETRAIN_TOOLS, 'test.py'),
                            checkpoint, shapes_root, str(tmp_path),
                            'test_dataloader.num_workers=0')
    result = call_tool('tools/analysis_tools/eval_metric.py',
                       str(tmp_path / 'preds.pkl'), '--metric',
                       'type=Accuracy', 'topk=1', check=True)
    correct = sum(int(s['pred_label']) == int(s['gt_label']) for s in theirs)
    assert result.stdout.strip() == \
        f'accuracy/top1: {100 * correct / len(theirs):.2f}'
