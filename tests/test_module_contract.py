"""Every named module of the main config's model is called, once per
forward pass, as its name promises: hooks, quantization observers and
feature extraction by module name see every module. Only the auxiliary
classifier stays idle outside training, where it costs nothing."""
import pytest
import torch
from helpers.tools import MAIN_CONFIG
from mmcv.cnn import fuse_conv_bn
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.structures import DataSample

from mmpre_inception import register_all_modules
from mmpre_inception.registry import MODELS

AUX = 'head.AuxLogits'
LOSS = 'head.loss_module'


def batch(size):
    """Two images as a data loader hands them to the model."""
    generator = torch.Generator().manual_seed(0)
    return dict(
        inputs=[torch.randint(0, 256, (3, size, size), dtype=torch.uint8,
                              generator=generator) for _ in range(2)],
        data_samples=[DataSample().set_gt_label(label) for label in (0, 3)])


def build_main_model():
    register_all_modules()
    cfg = Config.fromfile(MAIN_CONFIG)
    with DefaultScope.overwrite_default_scope('mmpre_inception'):
        return MODELS.build(cfg.model)


def calls_per_module(model, run):
    """How often ``run()`` calls each named module of ``model``."""
    counts = {name: 0 for name, _ in model.named_modules() if name}
    handles = [
        module.register_forward_pre_hook(
            lambda module, args, name=name: counts.__setitem__(
                name, counts[name] + 1))
        for name, module in model.named_modules() if name
    ]
    try:
        run()
    finally:
        for handle in handles:
            handle.remove()
    return counts


@pytest.mark.parametrize('folded', [False, True])
def test_every_module_is_called_once_per_prediction(folded):
    model = build_main_model().eval()
    if folded:  # as FoldBatchNormHook folds for tools/test.py
        fuse_conv_bn(model)
    with torch.no_grad():
        counts = calls_per_module(
            model, lambda: model.test_step(batch(139)))
    assert len(counts) > 300
    idle = {name for name, n in counts.items() if n == 0}
    assert idle == {name for name in counts
                    if name.startswith((AUX, LOSS))}
    assert {n for name, n in counts.items() if name not in idle} == {1}


def test_every_module_is_called_once_per_training_step():
    model = build_main_model().train()

    def step():  # BaseModel.train_step without the optimizer
        data = model.data_preprocessor(batch(299), True)
        model(**data, mode='loss')

    counts = calls_per_module(model, step)
    assert {name: n for name, n in counts.items()
            if not name.startswith(LOSS) and n != 1} == {}
    assert any(name.startswith(AUX) for name in counts)
    assert counts[LOSS] == 2  # the classifier's loss and the auxiliary one
