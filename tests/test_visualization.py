"""Pictures of predictions keep the image's colours."""
import os

import cv2
import torch
from mmpretrain.structures import DataSample
from mmpretrain.visualization import UniversalVisualizer

from mmpre_inception.engine import RGBVisualizationHook


def test_show_dir_pictures_keep_red_red(tmp_path):
    """A BGR batch (as OpenCV decodes) with a red image: the saved picture
    is red where the image shows, as OpenCV reads it back."""
    UniversalVisualizer.get_instance('rgb_test', save_dir=str(tmp_path))
    out_dir = tmp_path / 'show'
    hook = RGBVisualizationHook(enable=True, out_dir=str(out_dir))
    red_bgr = torch.zeros(3, 64, 64, dtype=torch.uint8)
    red_bgr[2] = 255
    sample = DataSample().set_gt_label(1).set_pred_label(1).set_pred_score(
        torch.tensor([0.1, 0.9]))
    sample.set_metainfo(dict(img_path='red.jpg'))
    hook._draw_samples(0, dict(inputs=[red_bgr]), [sample])
    (name, ) = os.listdir(out_dir)
    picture = cv2.imread(str(out_dir / name))  # BGR
    assert picture.shape == (64, 64, 3)
    # The corner, away from the label text.
    assert picture[-2, -2].tolist() == [0, 0, 255]
