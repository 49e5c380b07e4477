"""Registries of mmpre_inception, scope ``mmpre_inception``.

Every registry is a child of mmpretrain's registry of the same kind. With
``default_scope = 'mmpre_inception'`` a name is looked up here first and then
in mmpretrain and mmengine, so our ``InceptionV3`` never clobbers mmpretrain's
and every mmpretrain component (``ImageClassifier``, transforms, metrics,
losses, visualizers) still resolves.

All of mmpretrain's registry kinds are mirrored, not only those we add to:
mmengine builds e.g. the visualizer from the registry tree of the current
scope, and a scope that is missing from a tree falls back to mmengine's root
registry, where mmpretrain's components are not found.
"""
from mmengine.registry import Registry
from mmpretrain import registry as mmpretrain_registry

SCOPE = 'mmpre_inception'


def _child_of(parent: Registry, locations: list = ()) -> Registry:
    # A registry imports only its own locations before a lookup, and then
    # searches its parents' already-imported entries; so the child also
    # names the parent's locations (e.g. where UniversalVisualizer lives).
    return Registry(
        parent.name,
        parent=parent,
        scope=SCOPE,
        locations=list(locations) + list(parent._locations))


MODELS = _child_of(mmpretrain_registry.MODELS,
                   ['mmpre_inception.models', 'mmpre_inception.engine'])
DATASETS = _child_of(mmpretrain_registry.DATASETS,
                     ['mmpre_inception.datasets'])
TRANSFORMS = _child_of(mmpretrain_registry.TRANSFORMS,
                       ['mmpre_inception.datasets'])
HOOKS = _child_of(mmpretrain_registry.HOOKS, ['mmpre_inception.engine'])
METRICS = _child_of(mmpretrain_registry.METRICS,
                    ['mmpre_inception.evaluation'])

RUNNERS = _child_of(mmpretrain_registry.RUNNERS)
RUNNER_CONSTRUCTORS = _child_of(mmpretrain_registry.RUNNER_CONSTRUCTORS)
LOOPS = _child_of(mmpretrain_registry.LOOPS)
LOG_PROCESSORS = _child_of(mmpretrain_registry.LOG_PROCESSORS)
OPTIMIZERS = _child_of(mmpretrain_registry.OPTIMIZERS,
                       ['mmpre_inception.engine'])
OPTIM_WRAPPERS = _child_of(mmpretrain_registry.OPTIM_WRAPPERS,
                           ['mmpre_inception.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = _child_of(
    mmpretrain_registry.OPTIM_WRAPPER_CONSTRUCTORS, ['mmpre_inception.engine'])
PARAM_SCHEDULERS = _child_of(mmpretrain_registry.PARAM_SCHEDULERS)
DATA_SAMPLERS = _child_of(mmpretrain_registry.DATA_SAMPLERS)
MODEL_WRAPPERS = _child_of(mmpretrain_registry.MODEL_WRAPPERS,
                           ['mmpre_inception.engine'])
WEIGHT_INITIALIZERS = _child_of(mmpretrain_registry.WEIGHT_INITIALIZERS)
BATCH_AUGMENTS = _child_of(mmpretrain_registry.BATCH_AUGMENTS)
TASK_UTILS = _child_of(mmpretrain_registry.TASK_UTILS)
TOKENIZER = _child_of(mmpretrain_registry.TOKENIZER)
EVALUATORS = _child_of(mmpretrain_registry.EVALUATORS)
VISUALIZERS = _child_of(mmpretrain_registry.VISUALIZERS)
VISBACKENDS = _child_of(mmpretrain_registry.VISBACKENDS)
