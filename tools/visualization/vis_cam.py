"""Class activation maps (Grad-CAM and others) of a config's model on an
image, for any stage of the backbone chosen by name.

Writes one strip: the image as the network saw it (the config's test
pipeline), then the map of each ``--method`` laid over it, each panel the
image's size. The target class is the top prediction unless
``--target-category`` names one. The maps come from the ``grad-cam``
package (``pytorch_grad_cam``, what mmpretrain's vis_cam uses), an
optional dependency: ``pip install grad-cam``. Errors are one line on
stderr, exit status 2.

Example:
    python tools/visualization/vis_cam.py IMAGE \\
        configs/inception_v3_8xb32_in1k.py CKPT \\
        --target-layers backbone.Mixed_7c --method gradcam gradcam++ \\
        --out cam.png
"""
import argparse
import sys

import numpy as np
from mmengine.config import DictAction

from mmpre_inception.apis.cli import command_line, tool_parser
from mmpre_inception.errors import ConfigError

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
    parser.add_argument('--method', nargs='+', default=['gradcam'],
                        choices=sorted(METHODS))
    parser.add_argument('--target-category', type=int,
                        help='class index (default: the top prediction)')
    parser.add_argument('--out', required=True, help='PNG to write')
    parser.add_argument('--display-size', type=int,
                        help='enlarge each panel to this many pixels square '
                        '(default: the network input\'s size)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        metavar='KEY=VALUE')
    return parser.parse_args(argv)


def find_layers(model, names):
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


def class_activation_maps(model, inputs, layers, methods, category=None):
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
                               targets=[ClassifierOutputTarget(category)])[0]
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


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line() as outcome:
        try:
            import pytorch_grad_cam  # noqa: F401
        except ImportError:
            raise ConfigError('vis_cam.py needs the grad-cam package: pip '
                              'install grad-cam (see '
                              'requirements/optional.txt)') from None
        from mmpre_inception import register_all_modules
        from mmpre_inception.analysis.figures import save_png
        from mmpre_inception.analysis.predictions import class_names
        from mmpre_inception.apis import (check_file_exists, init_model,
                                          load_config)
        register_all_modules(init_default_scope=False)
        check_file_exists(args.img, 'image')
        if args.checkpoint:
            check_file_exists(args.checkpoint, 'checkpoint')
        cfg = load_config(args.config, args.cfg_options)
        model = init_model(cfg, args.checkpoint)
        layers = find_layers(model, args.target_layers)
        inputs, image = network_input(model, cfg, args.img)
        maps, category, score = class_activation_maps(
            model, inputs, layers, args.method, args.target_category)
        name = class_names(cfg, model.head.num_classes)[category]
        stages = ','.join(layer.split('.')[-1] for layer in
                          args.target_layers)
        labels = [f'{name} {score:.2f}'] + [f'{method}, {stages}'
                                            for method in maps]
        save_png(strip(image, maps, labels, args.display_size), args.out)
        print(f'class {category} ({name}, score {score:.3f}); '
              f'{", ".join(maps)} at {", ".join(args.target_layers)}: '
              f'{args.out}')
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
