"""mmpretrain's own Inception V3: the config and classifier that the
benchmarks and tests compare ours with."""
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

# Installed with mmpretrain (its ``.mim`` folder) unless it was installed
# without its configs.
MMPRETRAIN_INCEPTION_CONFIG = osp.join('configs', 'inception_v3',
                                       'inception-v3_8xb32_in1k.py')


def mmpretrain_inception_config_path() -> str:
    """Path of mmpretrain's installed ``inception-v3_8xb32_in1k.py``."""
    import mmpretrain
    return osp.join(
        osp.dirname(mmpretrain.__file__), '.mim', MMPRETRAIN_INCEPTION_CONFIG)


def build_mmpretrain_classifier(cfg: Config) -> torch.nn.Module:
    """Build an mmpretrain config's classifier, with its data preprocessor,
    in mmpretrain's registry scope (not initialised).

    Example:
        >>> cfg = Config.fromfile(mmpretrain_inception_config_path())
        >>> model = build_mmpretrain_classifier(cfg)
        >>> model.init_weights()  # doctest: +SKIP
    """
    from mmpretrain.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(
            dict(cfg.model, data_preprocessor=cfg.get('data_preprocessor')))
