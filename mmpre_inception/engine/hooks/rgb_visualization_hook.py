"""mmpretrain's prediction pictures, in the right colours."""
from mmpretrain.engine import VisualizationHook

from mmpre_inception.registry import HOOKS


@HOOKS.register_module()
class RGBVisualizationHook(VisualizationHook):
    """mmpretrain's ``VisualizationHook`` (``tools/test.py --show-dir``)
    for pipelines that decode images as BGR, as OpenCV and mmcv do.

    mmpretrain's hook hands the batch's images to the visualizer, which
    takes RGB, as they are: a BGR pipeline's pictures come out with red and
    blue swapped. This hook reverses the channels first. With test-time
    augmentation (``tools/test.py --tta``) it draws each image's first
    view. Same arguments as ``VisualizationHook``.

    Example:
        >>> default_hooks = dict(
        ...     visualization=dict(type=RGBVisualizationHook, enable=False))
    """

    def _draw_samples(self, batch_idx, data_batch, data_samples, step=0):
        if not self.enable:
            return
        images = data_batch['inputs']
        if isinstance(images[0], (list, tuple)):  # views x images (TTA)
            images = images[0]
        rgb = [image.flip(0) for image in images]
        super()._draw_samples(batch_idx, dict(data_batch, inputs=rgb),
                              data_samples, step)
