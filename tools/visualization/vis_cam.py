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
from typing import Optional, Sequence

import numpy as np

from mmpre_inception.apis.cli import (MAX_SIDE, add_cfg_options, command_line,
                                      int_in, tool_parser)
from mmpre_inception.errors import ConfigError

# Ours, not mmpretrain's vis_cam.py: in mmpretrain 1.2.0 it passes grad-cam
# 1.5's removed use_cuda, and fails on its own configs.

# --method names -> pytorch_grad_cam class names.
METHODS = {
    'gradcam': 'GradCAM',
    'gradcam++': 'GradCAMPlusPlus',
    'xgradcam': 'XGradCAM',
    'eigencam': 'EigenCAM',
    'eigengradcam': 'EigenGradCAM',
    'layercam': 'LayerCAM',
    'hirescam': 'HiResCAM',
}


def find_layers(model, names):
    """The modules named ``names`` (``backbone.Mixed_6e``, ...)."""
    modules = dict(model.named_modules())
    missing = [name for name in names if name not in modules]
    if missing:
        stages = [name for name, _ in model.backbone.named_children()]
        raise ConfigError(
            f'--target-layers {missing[0]}: no such module; the backbone\'s '
            f'stages are backbone.{", backbone.".join(stages)}')
    return [modules[name] for name in names]


def network_input(model, cfg, img: str):
    """The image through the config's test pipeline and the model's data
    preprocessor: (the batch of one, the RGB uint8 image it shows)."""
    from mmcv.transforms import Compose
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        pipeline = Compose(cfg.test_dataloader.dataset.pipeline)
    packed = pipeline(dict(img_path=img))
    shown = packed['inputs'].permute(1, 2, 0).numpy()[..., ::-1]
    batch = model.data_preprocessor(pseudo_collate([packed]), False)
    return batch['inputs'], np.ascontiguousarray(shown)


def class_activation_maps(model, inputs, layers, methods, category=None,
                          eigen_smooth: bool = False,
                          aug_smooth: bool = False):
    """One map per method, each the input's height x width in [0, 1].

    Returns:
        tuple: ``(maps, category, score)``: the maps (name -> array), the
        target class and its softmax score.
    """
    import pytorch_grad_cam
    import torch
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    with torch.no_grad():
        probabilities = model(inputs, mode='tensor').softmax(1)[0]
    if category is None:
        category = int(probabilities.argmax())
    elif not 0 <= category < len(probabilities):
        raise ConfigError(f'--target-category {category}: the model has '
                          f'{len(probabilities)} classes')

    class Logits(torch.nn.Module):
        """Images in, logits out (mmpretrain's ``mode='tensor'``), as
        pytorch_grad_cam calls a model."""

        def __init__(self):
            super().__init__()
            self.classifier = model

        def forward(self, images):
            return self.classifier(images, mode='tensor')

    maps = {}
    for method in methods:
        with getattr(pytorch_grad_cam, METHODS[method])(
                model=Logits(), target_layers=layers) as cam:
            maps[method] = cam(input_tensor=inputs,
                               targets=[ClassifierOutputTarget(category)],
                               eigen_smooth=eigen_smooth,
                               aug_smooth=aug_smooth)[0]
            spatial = cam.activations_and_grads.activations[0].shape[-2:]
        if maps[method].max() == maps[method].min():
            # Seen with the last stages on small inputs: a 1x1 output.
            raise ConfigError(
                f'the {method} map is constant: the target layer gives '
                f'{spatial[0]}x{spatial[1]} activations for this '
                f'{inputs.shape[-2]}x{inputs.shape[-1]} input, or its '
                'gradient is zero; choose an earlier stage (e.g. '
                'backbone.Mixed_6e)')
    return maps, category, float(probabilities[category])


def strip(image: np.ndarray, maps: dict, labels,
          display_size=None) -> np.ndarray:
    """The image, then each map over it, side by side (RGB uint8)."""
    import cv2
    from pytorch_grad_cam.utils.image import show_cam_on_image
    panels = [image] + [
        show_cam_on_image(image.astype(np.float32) / 255, cam, use_rgb=True)
        for cam in maps.values()]
    if display_size:
        panels = [cv2.resize(panel, (display_size, display_size),
                             interpolation=cv2.INTER_LINEAR)
                  for panel in panels]
    for panel, label in zip(panels, labels):
        cv2.rectangle(panel, (0, 0), (panel.shape[1], 18), (0, 0, 0), -1)
        cv2.putText(panel, label, (3, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.42,
                    (255, 255, 255), 1, cv2.LINE_AA)
    return np.concatenate(panels, axis=1)


def draw_cam(img: str, config: str, checkpoint: Optional[str],
             save_path: str, *,
             target_layers: Sequence[str] = ('backbone.Mixed_7c', ),
             methods: Sequence[str] = ('gradcam', ),
             target_category: Optional[int] = None,
             display_size: Optional[int] = None,
             eigen_smooth: bool = False, aug_smooth: bool = False,
             device: str = 'cpu',
             cfg_options: Optional[dict] = None) -> dict:
    """Write one strip: the image as the network saw it (the config's
    test pipeline), then each method's map over it.

    Args:
        img (str): The image.
        config (str): The config file.
        checkpoint (str, optional): Weights (random ones without).
        save_path (str): The PNG to write.
        target_layers (Sequence[str]): Module names.
        methods (Sequence[str]): Keys of :data:`METHODS`.
        target_category (int, optional): Class index (default: the top
            prediction).
        display_size (int, optional): Enlarge each panel to this square.
        eigen_smooth (bool): pytorch_grad_cam's first-principal-component
            smoothing.
        aug_smooth (bool): pytorch_grad_cam's test-time augmentation
            smoothing.
        device (str): Where the model runs.
        cfg_options (dict, optional): ``--cfg-options``.

    Returns:
        dict: ``category``, ``name`` and ``score`` of the target class and
        the ``methods`` drawn.
    """
    from mmpre_inception.analysis.figures import save_png
    from mmpre_inception.analysis.predictions import class_names
    from mmpre_inception.apis import check_file_exists, init_model, load_config
    unknown = [method for method in methods if method not in METHODS]
    if unknown:
        raise ConfigError(f'--method {unknown[0]}: choose from '
                          f'{", ".join(METHODS)}')
    check_file_exists(img, 'image')
    if checkpoint:
        check_file_exists(checkpoint, 'checkpoint')
    cfg = load_config(config, cfg_options)
    model = init_model(cfg, checkpoint, device=device)
    layers = find_layers(model, target_layers)
    inputs, image = network_input(model, cfg, img)
    maps, category, score = class_activation_maps(
        model, inputs, layers, methods, target_category, eigen_smooth,
        aug_smooth)
    name = class_names(cfg, model.head.num_classes)[category]
    stages = ','.join(layer.split('.')[-1] for layer in target_layers)
    labels = [f'{name} {score:.2f}'] + [f'{method}, {stages}'
                                        for method in maps]
    save_png(strip(image, maps, labels, display_size), save_path)
    return dict(category=category, name=name, score=score,
                methods=list(maps))


def module_names(config: str, cfg_options: Optional[dict] = None):
    """The names ``--target-layers`` takes: the model's modules down to
    the backbone's blocks' branches (``--preview-model``)."""
    from mmpre_inception.apis import init_model, load_config
    model = init_model(load_config(config, cfg_options))
    return [name for name, _ in model.named_modules()
            if name and name.count('.') <= 2]


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
