"""Test-time augmentation that averages the softmax of every view."""
from typing import List, Optional

import torch
from mmengine.model import BaseTTAModel
from mmpretrain.structures import DataSample

from mmpre_inception.registry import MODELS


@MODELS.register_module()
class MeanSoftmaxTTA(BaseTTAModel):
    """Scores of an image are the mean of the per-view softmax, as in the
    paper's multi-crop results and mmpretrain's ``AverageClsScoreTTA``.

    mmengine's ``BaseTTAModel`` runs one forward per view with the loader's
    batch of images, so 144 views of one image are 144 forwards of one
    crop. Here the views of the whole batch go through the network
    ``crops_per_forward`` at a time, whatever the number of views and
    images: full batches on a GPU, and the floating-point memory of one
    forward bounded however many views a config asks for. The decoded
    crops of a batch are ``batch_size x views`` uint8 images, which the
    multi-crop configs bound with their ``batch_size``.

    Args:
        module (dict | nn.Module): The classifier (``model`` of a config).
        crops_per_forward (int): Crops per forward pass.
        data_preprocessor (dict, optional): Unused; the module's own
            preprocessor prepares every view.

    Example:
        >>> # what tools/test.py --tta builds from a config
        >>> model = dict(type=MeanSoftmaxTTA, crops_per_forward=64,
        ...              module=dict(type='InceptionClassifier'))
    """

    def __init__(self,
                 module,
                 crops_per_forward: int = 64,
                 data_preprocessor: Optional[dict] = None) -> None:
        super().__init__(module=module, data_preprocessor=data_preprocessor)
        if crops_per_forward < 1:
            raise ValueError('MeanSoftmaxTTA crops_per_forward must be at '
                             f'least 1, not {crops_per_forward}')
        self.crops_per_forward = crops_per_forward

    def test_step(self, data: dict) -> List[DataSample]:
        # data['inputs'][view] holds that view of every image: a list of
        # tensors (mmengine's collate) or one stacked tensor (default
        # collate, which mmpretrain's tools set).
        views = [list(inputs) for inputs in data['inputs']]
        samples = [list(samples) for samples in data['data_samples']]
        num_images = len(views[0])
        flat_inputs = [crop for view in views for crop in view]
        flat_samples = [sample for view in samples for sample in view]
        predictions = []  # view-major, as flat_inputs
        for start in range(0, len(flat_inputs), self.crops_per_forward):
            stop = start + self.crops_per_forward
            predictions.extend(self.module.test_step(
                dict(inputs=flat_inputs[start:stop],
                     data_samples=flat_samples[start:stop])))
        return self.merge_preds([predictions[image::num_images]
                                 for image in range(num_images)])

    def merge_preds(
            self, data_samples_list: List[List[DataSample]]
    ) -> List[DataSample]:
        """One sample per image whose ``pred_score`` is the mean over its
        views (``data_samples_list[image][view]``) and ``pred_label`` the
        arg-max of that mean."""
        merged = []
        for views in data_samples_list:
            sample = views[0].new()
            mean = torch.stack([view.pred_score for view in views]).mean(0)
            sample.set_pred_score(mean).set_pred_label(mean.argmax())
            merged.append(sample)
        return merged
