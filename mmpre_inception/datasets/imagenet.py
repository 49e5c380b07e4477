"""mmpretrain's ImageNet, with the validation blacklist the paper leaves
out."""
import os.path as osp
import re
from typing import Optional, Set

from mmengine.logging import print_log
from mmpretrain.datasets import ImageNet as MMPretrainImageNet

from mmpre_inception.registry import DATASETS

from .annotations import AnnotationError

# ILSVRC2012_val_00000001.JPEG: the number the devkit's blacklist counts.
_VALIDATION_NUMBER = re.compile(r'ILSVRC2012_val_(\d{8})\.')


def read_excluded_numbers(path: str) -> Set[int]:
    """The image numbers of a devkit blacklist file (one 1-based number per
    line, as ``ILSVRC2015_clsloc_validation_blacklist.txt``)."""
    numbers = set()
    with open(path) as f:
        for line_number, line in enumerate(f, start=1):
            text = line.strip()
            if not text:
                continue
            if not text.isdigit() or int(text) == 0:
                raise AnnotationError(
                    f'{path}:{line_number}: {text!r} is not an image '
                    'number; an exclude_file lists the 1-based numbers of '
                    'ILSVRC2012_val_<number>.JPEG, one per line')
            numbers.add(int(text))
    return numbers


@DATASETS.register_module()
class ImageNet(MMPretrainImageNet):
    """mmpretrain's ``ImageNet`` that can leave out the images an ILSVRC
    devkit list names, such as the 1,762 validation images of
    ``ILSVRC2015_clsloc_validation_blacklist.txt``: the paper reports on
    the remaining 48,238 (Szegedy et al., 2016, section 8).

    Args:
        exclude_file (str, optional): A devkit list of 1-based validation
            image numbers (``ILSVRC2012_val_<number>.JPEG``), relative to
            ``data_root`` unless absolute. None keeps every image.
        *args, **kwargs: mmpretrain's ``ImageNet`` arguments.

    Example:
        >>> test_dataloader = dict(dataset=dict(
        ...     type=ImageNet, data_root='data/imagenet', split='val',
        ...     exclude_file='ILSVRC2015_clsloc_validation_blacklist.txt'))
    """

    def __init__(self, *args, exclude_file: Optional[str] = None,
                 **kwargs) -> None:
        data_root = kwargs.get('data_root', '')
        if exclude_file and data_root and not osp.isabs(exclude_file):
            exclude_file = osp.join(data_root, exclude_file)
        self.exclude_file = exclude_file
        super().__init__(*args, **kwargs)

    def load_data_list(self):
        data_list = super().load_data_list()
        if not self.exclude_file:
            return data_list
        if not osp.isfile(self.exclude_file):
            raise AnnotationError(
                f'exclude_file not found: {self.exclude_file}; it comes '
                'with the ILSVRC devkit (data/ILSVRC2015_clsloc_validation_'
                'blacklist.txt)')
        excluded = read_excluded_numbers(self.exclude_file)
        kept, present = [], set()
        for info in data_list:
            match = _VALIDATION_NUMBER.search(osp.basename(info['img_path']))
            if match is None:
                raise AnnotationError(
                    f'{self.ann_file or self.data_prefix["img_path"]}: '
                    f'{info["img_path"]} is not named '
                    'ILSVRC2012_val_<number>.JPEG, so exclude_file '
                    f'{self.exclude_file} cannot say whether to keep it; '
                    'remove exclude_file for other data sets')
            number = int(match.group(1))
            present.add(number)
            if number not in excluded:
                kept.append(info)
        message = (f'{self.exclude_file}: left out '
                   f'{len(data_list) - len(kept)} of {len(data_list)} '
                   f'images, {len(kept)} remain')
        absent = sorted(excluded - present)
        if absent:
            # A subset of the validation set (or another file) lists fewer.
            message += (f'; {len(absent)} listed images are not in the '
                        f'annotation file, e.g. ILSVRC2012_val_'
                        f'{absent[0]:08d}.JPEG')
        print_log(message, logger='current')
        return kept
