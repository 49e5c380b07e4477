import mmpretrain.models
import mmpretrain.registry as mmpretrain_registry
import torch
from mmengine.registry import DefaultScope

import mmpre_inception.models as our_models
from mmpre_inception import registry as our_registry


def test_every_mmpretrain_registry_has_our_child():
    for name in dir(mmpretrain_registry):
        parent = getattr(mmpretrain_registry, name)
        if not isinstance(parent, mmpretrain_registry.Registry) or \
                parent.scope != 'mmpretrain':
            continue
        ours = getattr(our_registry, name)
        assert ours.parent is parent, name
        assert ours.scope == 'mmpre_inception', name


def test_both_inception_v3_build_in_one_process():
    with DefaultScope.overwrite_default_scope('mmpre_inception'):
        ours = our_registry.MODELS.build(dict(type='InceptionV3'))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        theirs = mmpretrain_registry.MODELS.build(
            dict(type='InceptionV3', num_classes=10))
    assert type(ours) is our_models.InceptionV3
    assert type(theirs) is mmpretrain.models.InceptionV3
    assert mmpretrain_registry.MODELS.get('InceptionV3') is \
        mmpretrain.models.InceptionV3
    assert 'InceptionV3Head' not in mmpretrain_registry.MODELS.module_dict


def test_mmpretrain_components_resolve_through_our_scope():
    with DefaultScope.overwrite_default_scope('mmpre_inception'):
        assert our_registry.MODELS.get('ImageClassifier') is \
            mmpretrain.models.ImageClassifier
        assert our_registry.TRANSFORMS.get('PackInputs') is not None
        assert our_registry.METRICS.get('Accuracy') is not None
        assert our_registry.VISUALIZERS.get('UniversalVisualizer') is not None
        loss = our_registry.MODELS.build(dict(type='CrossEntropyLoss'))
    assert isinstance(loss, torch.nn.Module)
