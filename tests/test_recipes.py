"""The training recipes act as their configs say."""
import copy
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers.numerics import perturb_batchnorm
from helpers.tools import (MAIN_CONFIG, MIXUP_CONFIG, REPO, TINY_CONFIG,
                           TPU_CONFIG, call_tool)
from mmengine.config import Config
from mmengine.hooks import EMAHook, Hook
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmpretrain.structures import DataSample
from timm.optim import RMSpropTF

from mmpre_inception.checkpoint import load_checkpoint_file
from mmpre_inception.registry import MODELS, PARAM_SCHEDULERS

CONFIGS = osp.join(REPO, 'configs')
FINETUNE_CONFIG = osp.join(CONFIGS, 'finetune', 'inception_v3_1xb32_custom.py')


@pytest.fixture(autouse=True)
def scope():
    with DefaultScope.overwrite_default_scope('mmpre_inception'):
        yield


def build_model(cfg, num_classes=10, **head):
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.head.update(num_classes=num_classes, **head)
    model_cfg.data_preprocessor = dict(cfg.data_preprocessor,
                                       num_classes=num_classes)
    model = MODELS.build(model_cfg)
    model.init_weights()
    return model


def samples(labels):
    return [DataSample().set_gt_label(int(label)) for label in labels]


# --- the paper's recipe (configs/inception_v3_8xb32_in1k.py) ---


def test_rmsprop_tf_follows_tensorflows_rule():
    """timm's RMSpropTF, as the recipe configures it: three steps, with a
    learning-rate change, against the rule written out in numpy: ms starts
    at 1, epsilon inside the root, lr inside the momentum, L2 added to the
    gradient."""
    generator = torch.Generator().manual_seed(0)
    weight = torch.nn.Parameter(torch.randn(5, generator=generator))
    optimizer = RMSpropTF([weight], lr=0.045, alpha=0.9, eps=1.0,
                          momentum=0.9, weight_decay=4e-5)
    w = weight.detach().double().numpy().copy()
    ms, mom = np.ones_like(w), np.zeros_like(w)
    for step, lr in enumerate([0.045, 0.045, 0.045 * 0.94]):
        for group in optimizer.param_groups:
            group['lr'] = lr
        grad = torch.randn(5, generator=generator) * (step + 1)
        weight.grad = grad.clone()
        optimizer.step()
        g = grad.double().numpy() + 4e-5 * w
        ms = 0.9 * ms + 0.1 * g * g
        mom = 0.9 * mom + lr * g / np.sqrt(ms + 1.0)
        w = w - mom
        np.testing.assert_allclose(weight.detach().numpy(), w, rtol=1e-6)


def test_paper_optimizer_and_weight_decay_groups():
    cfg = Config.fromfile(MAIN_CONFIG)
    model = build_model(cfg)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    optimizer = optim_wrapper.optimizer
    assert isinstance(optimizer, RMSpropTF)
    decay = {}
    for group in optimizer.param_groups:
        assert (group['lr'], group['alpha'], group['eps'],
                group['momentum']) == (0.045, 0.9, 1.0, 0.9)
        for param in group['params']:
            decay[param] = group['weight_decay']
    for name, module in model.named_modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
            assert decay[module.weight] == 4e-5, name
        if isinstance(module, torch.nn.BatchNorm2d):
            assert decay[module.weight] == decay[module.bias] == 0.0, name
        if isinstance(module, torch.nn.Linear):
            assert decay[module.bias] == 0.0, name
    assert optim_wrapper.clip_grad_kwargs == {'max_norm': 2.0}


def test_paper_schedule_decays_by_094_every_two_epochs():
    cfg = Config.fromfile(MAIN_CONFIG)
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))],
                                lr=0.045)
    scheduler = PARAM_SCHEDULERS.build(
        dict(cfg.param_scheduler, optimizer=optimizer))
    seen = {}
    for epoch in range(cfg.train_cfg.max_epochs):
        seen[epoch] = optimizer.param_groups[0]['lr']
        optimizer.step()
        scheduler.step()
    assert cfg.train_cfg.max_epochs == 100
    for epoch in (0, 1, 2, 3, 4, 10, 11, 99):
        assert seen[epoch] == pytest.approx(0.045 * 0.94**(epoch // 2),
                                            rel=1e-9), epoch


# --- the Cloud TPU reference recipe (configs/inception_v3_8xb128_tpu_in1k.py)


def test_tpu_recipe_optimizer_schedule_and_average():
    """lr 0.165 x 1024 / 256, x0.94 every 3 epochs; RMSProp (0.9, momentum
    0.9, eps 1.0) without clipping; decay 4e-5 on conv and fc weights only;
    the weight average at decay 0.995."""
    cfg = Config.fromfile(TPU_CONFIG)
    assert cfg.train_dataloader.batch_size * 8 == 1024
    assert cfg.auto_scale_lr.base_batch_size == 1024
    model = build_model(cfg)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert isinstance(optim_wrapper.optimizer, RMSpropTF)
    assert not optim_wrapper.clip_grad_kwargs  # no clipping
    decay = {param: group['weight_decay']
             for group in optim_wrapper.optimizer.param_groups
             for param in group['params']}
    for group in optim_wrapper.optimizer.param_groups:
        assert (group['lr'], group['alpha'], group['eps'],
                group['momentum']) == (0.165 * 1024 / 256, 0.9, 1.0, 0.9)
    for name, module in model.named_modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
            assert decay[module.weight] == 4e-5, name
        if isinstance(module, torch.nn.BatchNorm2d):
            assert decay[module.weight] == decay[module.bias] == 0.0, name
    scheduler = PARAM_SCHEDULERS.build(dict(
        cfg.param_scheduler, optimizer=optim_wrapper.optimizer))
    seen = []
    for _ in range(cfg.train_cfg.max_epochs):
        seen.append(optim_wrapper.optimizer.param_groups[0]['lr'])
        scheduler.step()
    assert cfg.train_cfg.max_epochs == 170
    for epoch in (0, 2, 3, 5, 6, 169):
        assert seen[epoch] == pytest.approx(0.66 * 0.94**(epoch // 3),
                                            rel=1e-9), epoch
    # the recipe's floor, 1e-4 x the initial rate, lies beyond 170 epochs
    assert min(seen) > 1e-4 * 0.66
    assert cfg.custom_hooks[0].momentum == pytest.approx(1 - 0.995)
    assert cfg.custom_hooks[0].update_buffers is True


def test_tpu_recipe_batchnorm_decay_and_tf_preprocessing():
    cfg = Config.fromfile(TPU_CONFIG)
    model = build_model(cfg)
    norms = [module for module in model.modules()
             if isinstance(module, torch.nn.BatchNorm2d)]
    assert any('AuxLogits' in name for name, module in model.named_modules()
               if isinstance(module, torch.nn.BatchNorm2d))
    assert {(module.momentum, module.eps) for module in norms} == {
        (0.004, 1e-3)}
    assert (cfg.data_preprocessor.mean, cfg.data_preprocessor.std) == (
        [127.5] * 3, [127.5] * 3)
    assert [step['type'].__name__ for step in
            cfg.test_dataloader.dataset.pipeline] == [
                'LoadImageFromFile', 'CentralCropResize', 'PackInputs']
    crop = cfg.train_dataloader.dataset.pipeline[1]
    assert crop['crop_ratio_range'] == (0.1, 1.0)
    cfg.model.backbone.norm_cfg.momentum = 0
    with pytest.raises(ValueError, match=r'^norm_cfg momentum=0: use a '
                       r'momentum in \(0, 1\], 1 - TensorFlow decay '):
        build_model(cfg)
    # the option the norm_cfg replaced names where its value goes now
    cfg = Config.fromfile(TPU_CONFIG)
    cfg.model.bn_momentum = 0.004
    with pytest.raises(ValueError, match=r'^model.bn_momentum was replaced '
                       r'by .*model.backbone.norm_cfg and model.head.'
                       r'aux_norm_cfg .*momentum=0.004\)$'):
        build_model(cfg)


def test_clipping_bounds_the_gradient_norm():
    cfg = Config.fromfile(MAIN_CONFIG)
    model = build_model(cfg, dropout=0.0)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    model.train()
    images = torch.randn(2, 3, 80, 80,
                         generator=torch.Generator().manual_seed(0))
    losses = model(images, samples([1, 2]), mode='loss')
    optim_wrapper.backward(1e4 * sum(losses.values()))

    def grad_norm():
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        return torch.linalg.vector_norm(
            torch.stack([torch.linalg.vector_norm(g) for g in grads]))

    assert grad_norm() > 100.0
    optim_wrapper.step()
    assert grad_norm() <= 2.0 + 1e-4


def test_loss_is_label_smoothed_with_the_auxiliary_term():
    cfg = Config.fromfile(MAIN_CONFIG)
    model = build_model(cfg, num_classes=7, dropout=0.0)
    model.train()
    images = torch.randn(3, 3, 120, 120,
                         generator=torch.Generator().manual_seed(1))
    labels = torch.tensor([0, 4, 6])
    losses = model(images, samples(labels), mode='loss')
    assert set(losses) == {'loss_cls', 'loss_aux'}
    feats = model.extract_feat(images)
    smooth = F.one_hot(labels, 7) * 0.9 + 0.1 / 7

    def smoothed_ce(logits):
        return -(smooth * logits.log_softmax(dim=1)).sum(dim=1).mean()

    torch.testing.assert_close(losses['loss_cls'],
                               smoothed_ce(model.head.fc(feats[-1])))
    torch.testing.assert_close(
        losses['loss_aux'], 0.4 * smoothed_ce(model.head.AuxLogits(feats[0])))


def test_auxiliary_classifier_is_batch_normalised_at_299():
    """The paper's "BN-auxiliary": at 299x299 the auxiliary 5x5 conv sees a
    5x5 map, so it is a fully connected layer, and it is batch-normalised."""
    cfg = Config.fromfile(MAIN_CONFIG)
    model = build_model(cfg)
    aux_fc = model.head.AuxLogits.conv1
    assert isinstance(aux_fc.bn, torch.nn.BatchNorm2d)
    shapes = []
    aux_fc.conv.register_forward_hook(
        lambda module, args, out: shapes.append(
            (tuple(args[0].shape), tuple(out.shape))))
    model.train()
    model(torch.randn(2, 3, 299, 299), samples([0, 1]), mode='loss')
    assert shapes == [((2, 128, 5, 5), (2, 768, 1, 1))]


class RecordWeights(Hook):
    """Records the raw weights after each step and what validation sees."""
    priority = 'LOWEST'

    def __init__(self):
        self.after_steps, self.at_validation = [], None

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.after_steps.append(copy.deepcopy(runner.model.state_dict()))

    def before_val_epoch(self, runner):
        self.at_validation = copy.deepcopy(runner.model.state_dict())


@pytest.mark.slow
def test_validation_uses_the_averaged_weights(shapes_root, tmp_path):
    """EMA is recomputed here from the recorded raw weights (momentum 0.05
    in the tiny config, BN statistics included) and must be exactly what
    validation ran on, and differ from the raw weights."""
    cfg = Config.fromfile(TINY_CONFIG)
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.data_root = shapes_root
    cfg.test_dataloader = cfg.val_dataloader
    cfg.train_cfg.max_epochs = 1
    cfg.work_dir = str(tmp_path)
    (ema_cfg, ) = [h for h in cfg.custom_hooks
                   if issubclass(h['type'], EMAHook)]
    momentum = ema_cfg['momentum']
    runner = Runner.from_cfg(cfg)
    recorder = RecordWeights()
    runner.register_hook(recorder)
    runner.train()

    expected = copy.deepcopy(recorder.after_steps[0])
    for state in recorder.after_steps[1:]:
        for key, value in expected.items():
            if value.is_floating_point():
                value.lerp_(state[key], momentum)
    raw = recorder.after_steps[-1]
    seen = recorder.at_validation
    assert len(recorder.after_steps) == 5
    for key, value in expected.items():
        if value.is_floating_point():
            torch.testing.assert_close(seen[key], value, rtol=1e-5,
                                       atol=1e-6, msg=key)
    assert not torch.equal(seen['backbone.Conv2d_1a_3x3.conv.weight'],
                           raw['backbone.Conv2d_1a_3x3.conv.weight'])
    # Training goes on with the raw weights.
    torch.testing.assert_close(runner.model.state_dict()
                               ['backbone.Conv2d_1a_3x3.conv.weight'],
                               raw['backbone.Conv2d_1a_3x3.conv.weight'])


# --- today's recipe (configs/inception_v3_8xb64_mixup_randaug_cos_in1k.py) ---


@pytest.mark.filterwarnings('ignore:Detected call of `scheduler.step')
def test_modern_recipe_schedule_and_augments():
    cfg = Config.fromfile(MIXUP_CONFIG)
    assert [step['type'].__name__ for step in
            cfg.train_dataloader.dataset.pipeline] == [
                'LoadImageFromFile', 'RandomResizedCrop', 'RandomFlip',
                'RandAugment', 'RandomErasing', 'PackInputs']
    model = build_model(cfg, num_classes=10)
    optimizer = build_optim_wrapper(model, cfg.optim_wrapper).optimizer
    assert isinstance(optimizer, torch.optim.AdamW)
    assert optimizer.param_groups[0]['weight_decay'] == 0.05
    iters_per_epoch = 10
    lrs = lr_trace(cfg, model, iters_per_epoch, epochs=7)
    assert lrs[0] == pytest.approx(5e-4 * 1e-3)
    assert lrs[5 * iters_per_epoch - 1] < 5e-4
    assert lrs[5 * iters_per_epoch] == pytest.approx(5e-4)
    assert lrs[6 * iters_per_epoch] < 5e-4  # cosine decay has begun


def lr_trace(cfg, model, iters_per_epoch, epochs):
    """Learning rate at each iteration, stepping the schedulers as the
    Runner does (iteration-based after conversion, epoch-based at epoch
    ends)."""
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    schedulers = []
    for scheduler_cfg in cfg.param_scheduler:
        scheduler_cfg = dict(scheduler_cfg, optimizer=optim_wrapper)
        cls = PARAM_SCHEDULERS.get(scheduler_cfg.pop('type'))
        if scheduler_cfg.pop('convert_to_iter_based', False):
            schedulers.append(cls.build_iter_from_epoch(
                epoch_length=iters_per_epoch, **scheduler_cfg))
        else:
            schedulers.append(cls(**scheduler_cfg))
    lrs = []
    for _ in range(epochs):
        for _ in range(iters_per_epoch):
            lrs.append(optim_wrapper.optimizer.param_groups[0]['lr'])
            optim_wrapper.optimizer.step()
            for scheduler in schedulers:
                if not scheduler.by_epoch:
                    scheduler.step()
        for scheduler in schedulers:
            if scheduler.by_epoch:
                scheduler.step()
    return lrs


def test_modern_recipe_mixes_targets_in_a_training_step(shapes_root):
    cfg = Config.fromfile(MIXUP_CONFIG)
    dataset_cfg = dict(cfg.train_dataloader.dataset, type='CustomDataset',
                       data_root=shapes_root, ann_file='meta/train.txt',
                       data_prefix='train')
    dataset = Runner.build_dataloader(
        dict(cfg.train_dataloader, dataset=dataset_cfg, batch_size=4,
             num_workers=0, persistent_workers=False)).dataset
    torch.manual_seed(0)
    batch = [dataset[i] for i in (0, 4, 8, 12)]  # four classes
    assert batch[0]['inputs'].shape == (3, 299, 299)
    model = build_model(cfg, num_classes=10)
    data = model.data_preprocessor(
        dict(inputs=[b['inputs'] for b in batch],
             data_samples=[b['data_samples'] for b in batch]), training=True)
    scores = torch.stack([s.gt_score for s in data['data_samples']])
    assert scores.shape == (4, 10)
    torch.testing.assert_close(scores.sum(dim=1), torch.ones(4))
    assert (scores.max(dim=1).values < 1).any()  # soft, mixed targets
    model.train()
    losses = model(data['inputs'], data['data_samples'], mode='loss')
    assert set(losses) == {'loss_cls', 'loss_aux'}
    assert all(torch.isfinite(v) for v in losses.values())


# --- fine-tuning (configs/finetune/inception_v3_1xb32_custom.py) ---


def test_finetune_loads_backbone_and_starts_a_new_classifier(tmp_path):
    cfg = Config.fromfile(MAIN_CONFIG)
    imagenet = build_model(cfg, num_classes=1000)
    perturb_batchnorm(imagenet, torch.Generator().manual_seed(0))
    checkpoint = str(tmp_path / 'imagenet.pth')
    torch.save({'state_dict': imagenet.state_dict()}, checkpoint)

    cfg = Config.fromfile(FINETUNE_CONFIG)
    cfg.model.backbone.init_cfg.checkpoint = checkpoint
    model = build_model(cfg, num_classes=3)
    loaded = model.state_dict()
    for key, value in imagenet.state_dict().items():
        if key.startswith('backbone.'):
            torch.testing.assert_close(loaded[key], value, msg=key)
    assert model.head.fc.weight.shape == (3, 2048)
    assert model.head.AuxLogits.fc.weight.shape == (3, 768)
    # The new classifier starts from its own initialisation.
    assert not torch.equal(model.head.AuxLogits.conv0.conv.weight,
                           imagenet.head.AuxLogits.conv0.conv.weight)
    groups = build_optim_wrapper(model, cfg.optim_wrapper).optimizer \
        .param_groups
    lr_of = {p: g['lr'] for g in groups for p in g['params']}
    assert lr_of[model.backbone.Conv2d_1a_3x3.conv.weight] == \
        pytest.approx(0.001)
    assert lr_of[model.head.fc.weight] == pytest.approx(0.01)


@pytest.mark.slow
@pytest.mark.parametrize('source, message', [
    ('resnet18', "has no backbone.* weights; is it a checkpoint of another "
     "architecture?"),
    ('torchvision', 'has no backbone.* weights: it is a torchvision or timm '
     'Inception V3 state dict; convert it first with tools/model_converters/'
     'torchvision2mmpre_inception.py'),
    ('mmpretrain_resnet', 'does not fit the model: '),
])
def test_finetune_refuses_a_pretrained_file_that_is_not_our_backbone(
        tmp_path, source, message):
    """mmengine's Pretrained initialiser would train on from a random
    backbone with only a "missing keys" log line."""
    import torchvision

    from mmpre_inception.checkpoint import CheckpointError
    if source == 'torchvision':
        weights = torchvision.models.inception_v3(
            weights=None, aux_logits=True, init_weights=False).state_dict()
    else:
        weights = torchvision.models.resnet18().state_dict()
    if source == 'mmpretrain_resnet':
        weights = {f'backbone.{k}': v for k, v in weights.items()}
    checkpoint = str(tmp_path / f'{source}.pth')
    torch.save(weights, checkpoint)
    cfg = Config.fromfile(FINETUNE_CONFIG)
    cfg.model.backbone.init_cfg.checkpoint = checkpoint
    with pytest.raises(CheckpointError) as error:
        build_model(cfg, num_classes=3)  # initialises the model
    assert message in str(error.value)
    assert str(error.value).startswith(f'checkpoint {checkpoint} ')


def test_finetune_config_trains_on_a_folder_data_set(shapes_root, tmp_path):
    """tools/train.py with the fine-tuning config on class folders (the
    generated train/ split), from a saved 1000-class checkpoint."""
    cfg = Config.fromfile(MAIN_CONFIG)
    checkpoint = str(tmp_path / 'imagenet.pth')
    torch.save({'state_dict': build_model(cfg, num_classes=1000)
                .state_dict()}, checkpoint)
    call_tool(
        'tools/train.py', FINETUNE_CONFIG, '--work-dir', str(tmp_path),
        '--cfg-options', f'model.backbone.init_cfg.checkpoint={checkpoint}',
        'model.head.num_classes=10', 'data_preprocessor.num_classes=10',
        f'train_dataloader.dataset.data_root={shapes_root}',
        f'val_dataloader.dataset.data_root={shapes_root}',
        # the generated val/ split is flat, labelled by meta/val.txt
        'val_dataloader.dataset.ann_file=meta/val.txt',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        # 96 pixels instead of 299: what is tested does not need the size
        'train_dataloader.dataset.pipeline.1.scale=96',
        'val_dataloader.dataset.pipeline.1.scale=96',
        'val_dataloader.dataset.pipeline.2.crop_size=96',
        'train_dataloader.batch_size=20', 'train_cfg.max_epochs=1', check=True)
    state = load_checkpoint_file(tmp_path / 'epoch_1.pth', mmap=True)
    assert state['meta']['iter'] == 2
    assert state['state_dict']['head.fc.weight'].shape == (10, 2048)
