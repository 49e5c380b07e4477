"""What a config's data pipeline does to images: one row per image, one
panel per step (the decoded original, then each transform), and in
training last the data preprocessor's batch augmentation
(``model.train_cfg.augments``: Mixup / CutMix) with the soft labels it
made.

mmpretrain's command line works as is. Each step is the config's own
transform, applied in order to the same sample; the batch step is the
model's data preprocessor in training mode, as a training step runs it.
``PackInputs`` only converts, so it has no panel. All rows go into one
PNG: ``--out FILE``, or ``PHASE_MODE.png`` in ``-o/--output-dir``.

Example:
    python tools/visualization/browse_dataset.py \\
        configs/inception_v3_8xb64_mixup_randaug_cos_in1k.py \\
        -o browse -n 4 -m pipeline -p train --not-show
"""
import argparse
import os.path as osp
import sys

from mmpre_inception.apis.cli import (add_cfg_options, command_line,
                                      positive_float, positive_int, seed_int,
                                      tool_parser)
from mmpre_inception.errors import ConfigError

NO_WINDOW = ('accepted for mmpretrain\'s command line; this tool opens no '
             'window, it writes the picture')


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    parser.add_argument('config')
    parser.add_argument('-o', '--output-dir',
                        help='write PHASE_MODE.png here')
    parser.add_argument('--out', help='or write this PNG')
    parser.add_argument('-p', '--phase', choices=['train', 'val', 'test'],
                        default='train')
    parser.add_argument('-n', '--show-number', '--num-images',
                        type=positive_int, default=4, dest='show_number',
                        help='images, one row each (default 4: one '
                        'picture holds them all)')
    parser.add_argument('-m', '--mode', default='pipeline',
                        choices=['original', 'transformed', 'concat',
                                 'pipeline'],
                        help='panels per row: the decoded image, the last '
                        'step, both, or every step (default: pipeline, '
                        'what this picture is for)')
    parser.add_argument('-r', '--rescale-factor', type=positive_float,
                        default=1.0,
                        help='scale the 200-pixel panels')
    parser.add_argument('--seed', type=seed_int, default=0,
                        help='picks the images and the random transforms')
    parser.add_argument('--size', help='pixels, WxH (default: 200 per panel)')
    parser.add_argument('--not-show', action='store_true', help=NO_WINDOW)
    parser.add_argument('-i', '--show-interval', type=float, help=NO_WINDOW)
    parser.add_argument('-c', '--channel-order', choices=['BGR', 'RGB'],
                        help='accepted for mmpretrain\'s command line; the '
                        'panels are always drawn in true colour')
    add_cfg_options(parser)
    return parser.parse_args(argv)


def output_path(args) -> str:
    if bool(args.out) == bool(args.output_dir):
        raise ConfigError('give -o/--output-dir DIR or --out FILE (one of '
                          'them): this tool opens no window')
    return args.out or osp.join(args.output_dir,
                                f'{args.phase}_{args.mode}.png')


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line(register_modules=True) as outcome:
        from mmpre_inception.analysis.pipeline_steps import draw_pipeline
        path = output_path(args)
        browsed = draw_pipeline(
            args.config, path, phase=args.phase, mode=args.mode,
            num_images=args.show_number, seed=args.seed, size=args.size,
            rescale_factor=args.rescale_factor, cfg_options=args.cfg_options)
        print(f'{len(browsed["images"])} images x {len(browsed["steps"])} '
              f'steps ({", ".join(browsed["steps"])}): {path}')
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
