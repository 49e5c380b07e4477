"""FLOPs and parameters of a config's model at inference, per image.

FLOPs are counted with mmcv 1.x's rules, those of OpenMMLab's model zoo
(mmpre_inception/analysis/flops.py); the auxiliary classifier, which only
training runs, is left out of both figures.

Example:
    python tools/analysis_tools/get_flops.py configs/inception_v3_8xb32_in1k.py
"""
import argparse
import sys

from mmpre_inception.utils import silence_known_warnings

silence_known_warnings()  # before mmcv and mmpretrain warn on import

import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402

from mmpre_inception.analysis import count_flops  # noqa: E402
from mmpre_inception.registry import MODELS  # noqa: E402
from mmpre_inception.utils import ConfigError, load_config  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--shape', type=int, nargs='+', default=[299],
                        help='input size: one value, or height and width')
    args = parser.parse_args(argv)
    try:
        cfg: Config = load_config(args.config)
    except ConfigError as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    height, width = (args.shape * 2)[:2]
    with DefaultScope.overwrite_default_scope('mmpre_inception'):
        model = MODELS.build(cfg.model).eval()
    inference_params = sum(
        p.numel() for name, p in model.named_parameters()
        if not name.startswith('head.AuxLogits.'))
    counts = count_flops(model, torch.zeros(1, 3, height, width),
                         mode='tensor')
    print(f'Input shape: (3, {height}, {width})')
    print(f'FLOPs: {counts["total"] / 1e9:.2f} G ({counts["total"]:,}; '
          'mmcv 1.x rules: conv, fc, BatchNorm, ReLU, pooling)')
    print('  ' + ', '.join(f'{kind} {value:,}' for kind, value in
                           counts.items() if kind != 'total'))
    print(f'Params: {inference_params / 1e6:.2f} M ({inference_params:,}; '
          'without the auxiliary classifier)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
