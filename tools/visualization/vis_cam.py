"""Class activation maps (Grad-CAM and others) of a config's model on an
image, for any stage of the backbone chosen by name.

mmpretrain's command line works as is. Writes one strip: the image as
the network saw it (the config's test pipeline), then the map of each
``--method`` laid over it, each panel the image's size. The target class
is the top prediction unless ``--target-category`` names one. The maps
come from the ``grad-cam`` package (``pytorch_grad_cam``, what
mmpretrain's vis_cam uses), an optional dependency: ``pip install
grad-cam``.

Example:
    python tools/visualization/vis_cam.py IMAGE \\
        configs/inception_v3_8xb32_in1k.py CKPT \\
        --target-layers backbone.Mixed_7c --method GradCAM GradCAM++ \\
        --save-path cam.png
"""
import argparse
import sys

from mmpre_inception.apis.cli import (MAX_SIDE, add_cfg_options, command_line,
                                      int_in, tool_parser)
from mmpre_inception.errors import ConfigError


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    parser.add_argument('img')
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?',
                        help='weights (random ones without it)')
    parser.add_argument('--target-layers', nargs='+',
                        default=['backbone.Mixed_7c'],
                        help='module names, e.g. backbone.Mixed_6e '
                        '(default: backbone.Mixed_7c, the last stage)')
    parser.add_argument('--preview-model', action='store_true',
                        help='list the module names and stop')
    parser.add_argument('--method', nargs='+', default=['gradcam'],
                        type=str.lower,
                        help='gradcam, gradcam++, xgradcam, eigencam, '
                        'eigengradcam, layercam, hirescam (any case)')
    parser.add_argument('--target-category', type=int_in(0),
                        help='class index (default: the top prediction)')
    parser.add_argument('--eigen-smooth', action='store_true')
    parser.add_argument('--aug-smooth', action='store_true')
    parser.add_argument('--save-path', '--out', dest='save_path',
                        help='PNG to write')
    parser.add_argument('--display-size', type=int_in(1, MAX_SIDE),
                        help='enlarge each panel to this many pixels square '
                        '(default: the network input\'s size)')
    parser.add_argument('--device', default='cpu')
    add_cfg_options(parser)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line(register_modules=True) as outcome:
        try:
            import pytorch_grad_cam  # noqa: F401
        except ImportError:
            raise ConfigError('vis_cam.py needs the grad-cam package: pip '
                              'install grad-cam (see '
                              'requirements/optional.txt)') from None
        from mmpre_inception.analysis.cam import draw_cam, module_names
        if args.preview_model:
            print('\n'.join(module_names(args.config, args.cfg_options)))
            return 0
        if not args.save_path:
            raise ConfigError('give --save-path PNG: this tool writes the '
                              'picture and opens no window')
        shown = draw_cam(
            args.img, args.config, args.checkpoint, args.save_path,
            target_layers=args.target_layers, methods=args.method,
            target_category=args.target_category,
            display_size=args.display_size, eigen_smooth=args.eigen_smooth,
            aug_smooth=args.aug_smooth, device=args.device,
            cfg_options=args.cfg_options)
        print(f'class {shown["category"]} ({shown["name"]}, score '
              f'{shown["score"]:.3f}); {", ".join(shown["methods"])} at '
              f'{", ".join(args.target_layers)}: {args.save_path}')
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
