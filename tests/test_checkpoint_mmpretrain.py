"""mmpretrain's published Inception V3 layout loads into our model as is."""
import pickle

import pytest
import torch
from helpers.tools import MAIN_CONFIG, call_tool
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint

from mmpre_inception.checkpoint import (CheckpointError,
                                        relocate_mmpretrain_keys)
from mmpre_inception.registry import MODELS


def _our_model():
    cfg = Config.fromfile(MAIN_CONFIG)
    # The same memory format as mmpretrain's, so both run the same
    # kernels and the comparison is of the weights alone
    # (test_precision.py compares the layouts).
    cfg.model.channels_last = False
    with DefaultScope.overwrite_default_scope('mmpre_inception'):
        return MODELS.build(cfg.model)


@pytest.mark.numerics
def test_logits_match_mmpretrain(mmpretrain_checkpoint):
    reference, path = mmpretrain_checkpoint
    model = _our_model()
    # mmengine's loader, as the Runner uses for tools/test.py and load_from.
    load_checkpoint(model, path, map_location='cpu', strict=True)
    model.eval()
    x = torch.randn(2, 3, 299, 299, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        _, expected = reference(x)
        logits = model(x, mode='tensor')
    # The same operations in the same order: bit for bit.
    assert torch.equal(logits, expected)


@pytest.mark.numerics
def test_auxiliary_logits_match_mmpretrain(mmpretrain_checkpoint):
    reference, path = mmpretrain_checkpoint
    model = _our_model()
    model.load_state_dict(torch.load(path)['state_dict'], strict=True)
    model.eval()
    reference.train()  # mmpretrain computes AuxLogits only in training mode
    reference.apply(lambda m: m.eval() if isinstance(
        m, (torch.nn.BatchNorm2d, torch.nn.Dropout)) else None)
    x = torch.randn(2, 3, 299, 299, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        expected_aux, _ = reference(x)
        aux = model.head.forward_aux(model.extract_feat(x))
    reference.eval()
    assert torch.equal(aux, expected_aux)


def test_relocation_leaves_our_layout_alone():
    model = _our_model()
    state = model.state_dict()
    assert relocate_mmpretrain_keys(dict(state)) == 0


def test_relocation_refuses_ambiguous_checkpoints():
    state = {'backbone.fc.weight': torch.zeros(1),
             'head.fc.weight': torch.ones(1)}
    with pytest.raises(KeyError, match='both'):
        relocate_mmpretrain_keys(state)


@pytest.mark.slow
def test_tools_test_takes_mmpretrain_checkpoint(mmpretrain_checkpoint,
                                                shapes_root, tmp_path):
    """``python tools/test.py configs/inception_v3_8xb32_in1k.py CKPT``
    with an mmpretrain-layout checkpoint: the predictions equal mmpretrain's
    model on the same preprocessed images."""
    reference, path = mmpretrain_checkpoint
    out = str(tmp_path / 'preds.pkl')
    result = call_tool(
        'tools/test.py', MAIN_CONFIG, path, '--work-dir', str(tmp_path),
        '--out', out, '--cfg-options',
        f'test_dataloader.dataset.data_root={shapes_root}',
        'test_dataloader.num_workers=0', 'test_dataloader.batch_size=4',
        check=True)
    assert 'accuracy/top1' in result.stdout
    with open(out, 'rb') as f:
        predictions = pickle.load(f)
    assert len(predictions) == 20

    cfg = Config.fromfile(MAIN_CONFIG)
    with DefaultScope.overwrite_default_scope('mmpre_inception'):
        dataset_cfg = cfg.test_dataloader.dataset
        dataset_cfg.data_root = shapes_root
        from mmpretrain.registry import DATASETS
        dataset = DATASETS.build(dataset_cfg)
        preprocessor = MODELS.build(
            dict(type='ClsDataPreprocessor', **cfg.data_preprocessor))
    for index in (0, 7, 19):
        batch = preprocessor(
            {k: [v] for k, v in dataset[index].items()}, False)
        with torch.no_grad():
            expected = reference(batch['inputs'])[1].softmax(1)[0]
        torch.testing.assert_close(predictions[index]['pred_score'],
                                   expected, rtol=1e-4, atol=1e-5)


def test_checkpoint_without_auxiliary_classifier_loads_without_a_warning(
        tmp_path):
    """mmpretrain's published checkpoint was trained without AuxLogits:
    mmengine's loader (load_from, init_cfg) must not warn "missing keys"
    for it, while a checkpoint missing another tensor is refused (mmengine
    itself would only log it)."""
    import logging

    from mmengine.logging import MMLogger
    model = _our_model()
    state = {key: value for key, value in model.state_dict().items()
             if not key.startswith('head.AuxLogits.')}
    path = tmp_path / 'no_aux.pth'
    torch.save({'state_dict': state}, path)
    logger = MMLogger.get_instance('aux_test')
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        load_checkpoint(_our_model(), str(path), logger=logger)
        messages = [record.getMessage() for record in records]
        assert not any('missing keys' in m for m in messages), messages
        del state['backbone.Mixed_7c.branch1x1.conv.weight']
        torch.save({'state_dict': state}, path)
        with pytest.raises(CheckpointError,
                           match=r'does not fit the model: 1 missing: '
                           r'backbone\.Mixed_7c\.branch1x1\.conv\.weight\.$'):
            load_checkpoint(_our_model(), str(path), logger=logger)
    finally:
        logger.removeHandler(handler)
