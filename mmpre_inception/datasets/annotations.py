"""Check annotation files before a run starts, naming the line at fault.

mmpretrain reads ``meta/*.txt`` lines as ``<image path> <label>`` and fails
deep inside a worker, or not at all (a label of 1000 for 1000 classes only
breaks the loss on a GPU, a missing image only when it is reached).
"""
import codecs
import os.path as osp
from typing import List, Optional, Sequence

from mmengine.logging import print_log

from mmpre_inception.errors import AnnotationError


def _read_lines(ann_file: str) -> List[str]:
    """The file's lines, decoded as mmpretrain decodes them (UTF-8); a
    byte-order mark or another encoding is an error naming the line."""
    with open(ann_file, 'rb') as f:
        data = f.read()
    if data.startswith(codecs.BOM_UTF8):
        raise AnnotationError(
            f'{ann_file}:1: the file starts with a UTF-8 byte-order mark, '
            'which mmpretrain reads as part of the first image name; save '
            'it without one (e.g. sed -i \'1s/^\\xEF\\xBB\\xBF//\' FILE)')
    lines = data.split(b'\n')
    for number, raw in enumerate(lines, start=1):
        try:
            raw.decode('utf-8')
        except UnicodeDecodeError as error:
            raise AnnotationError(
                f'{ann_file}:{number}: not UTF-8 (byte '
                f'0x{raw[error.start]:02x} at column {error.start + 1}); '
                'mmpretrain reads annotation files as UTF-8: convert it, '
                'e.g. iconv -f latin1 -t utf-8') from None
    if lines and not lines[-1]:
        lines.pop()  # the newline that ends the last line
    return [raw.decode('utf-8') for raw in lines]


def check_annotation_file(ann_file: str,
                          image_dir: str,
                          num_classes: Optional[int] = None,
                          missing_images_ok: bool = False,
                          duplicates_ok: bool = False) -> int:
    """Check every line of an mmpretrain annotation file.

    Args:
        ann_file (str): The file, lines of ``<image path> <label>``.
        image_dir (str): Directory the image paths are relative to.
        num_classes (int, optional): Labels must be in ``[0, num_classes)``.
        missing_images_ok (bool): Only warn about images that do not exist
            (``--skip-unreadable`` skips them later). Defaults to False.
        duplicates_ok (bool): Only warn about an image listed twice (a
            training set may oversample; an evaluation would score it
            twice). Defaults to False.

    Returns:
        int: Number of samples.

    Raises:
        AnnotationError: The first bad line, as ``FILE:LINE: reason``.

    Example:
        >>> check_annotation_file('data/imagenet/meta/val.txt',
        ...                       'data/imagenet/val', 1000)  # doctest: +SKIP
        50000
    """
    if not osp.isfile(ann_file):
        raise AnnotationError(f'annotation file not found: {ann_file}')
    count = 0
    missing = []
    first_line_of = {}
    duplicates = []
    lines = _read_lines(ann_file)
    if not any(line.strip() for line in lines):
        raise AnnotationError(
            f'{ann_file}: no samples listed (the file is empty); expected '
            'lines of "<image path> <label>"')
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        where = f'{ann_file}:{number}'
        if not line:  # mmpretrain's reader fails on these too
            raise AnnotationError(f'{where}: empty line')
        columns = line.rsplit(' ', 1)
        if len(columns) != 2:
            raise AnnotationError(
                f'{where}: expected "<image path> <label>", got '
                f'{len(line.split())} column: {line!r}')
        path, label_text = columns
        try:
            label = int(label_text)
        except ValueError:
            raise AnnotationError(
                f'{where}: label {label_text!r} is not an integer') \
                from None
        if label < 0 or (num_classes is not None
                         and label >= num_classes):
            raise AnnotationError(
                f'{where}: label {label} is outside 0..'
                f'{num_classes - 1 if num_classes else "N"} '
                f'(num_classes={num_classes})')
        if not osp.isfile(osp.join(image_dir, path)):
            if not missing_images_ok:
                raise AnnotationError(
                    f'{where}: image not found: '
                    f'{osp.join(image_dir, path)}')
            missing.append(where)
        if path in first_line_of:
            duplicates.append(f'{where}: repeats line '
                              f'{first_line_of[path]} ({path})')
        first_line_of.setdefault(path, number)
        count += 1
    if duplicates:
        message = (f'{duplicates[0]} ({len(duplicates)} repeated '
                   'lines in all)')
        if not duplicates_ok:
            raise AnnotationError(
                f'{message}: an evaluation would score those images twice; '
                'remove the repeated lines')
        print_log(f'{message}: those images are sampled more often',
                  logger='current', level=30)
    if missing:
        print_log(
            f'{len(missing)} images listed in {ann_file} do not exist and '
            f'will be skipped (first: {missing[0]})',
            logger='current', level=30)
    return count


def check_dataset_annotations(dataset_cfg: dict,
                              num_classes: Optional[int] = None,
                              missing_images_ok: bool = False,
                              duplicates_ok: bool = False) -> None:
    """Run :func:`check_annotation_file` on a data set config's
    ``ann_file``, if it has one (a folder-per-class data set has none).

    Args:
        dataset_cfg (dict): A data set config with ``data_root``,
            ``ann_file`` and ``data_prefix`` as mmpretrain reads them; a
            ``SkipUnreadableImages`` wrapper is looked through.
        num_classes (int, optional): Number of classes of the model.
        missing_images_ok (bool): See :func:`check_annotation_file`.
        duplicates_ok (bool): See :func:`check_annotation_file`.
    """
    if 'dataset' in dataset_cfg and 'ann_file' not in dataset_cfg:
        dataset_cfg = dataset_cfg['dataset']
    ann_file = dataset_cfg.get('ann_file')
    if not ann_file:
        return
    data_root = dataset_cfg.get('data_root') or ''
    prefix = dataset_cfg.get('data_prefix') or ''
    if isinstance(prefix, dict):
        prefix = prefix.get('img_path', '')
    check_annotation_file(
        osp.join(data_root, ann_file), osp.join(data_root, prefix),
        num_classes, missing_images_ok, duplicates_ok)


def check_config_annotations(cfg, loaders: Sequence[str],
                             missing_images_ok: bool = False) -> None:
    """Check the annotation file of each of ``loaders`` against the
    model's ``num_classes`` before the run starts. An image listed twice
    is an error for evaluation (it would be scored twice) and a warning for
    training (oversampling).

    Raises:
        AnnotationError: Naming the file and line at fault.
    """
    num_classes = cfg.get('model', {}).get('head', {}).get('num_classes')
    for name in loaders:
        loader = cfg.get(name)
        if loader:
            check_dataset_annotations(
                loader['dataset'], num_classes, missing_images_ok,
                duplicates_ok=name == 'train_dataloader')


def config_class_names(cfg, loader: str = 'test_dataloader'
                       ) -> Optional[List[str]]:
    """The class names of ``cfg``'s ``loader`` data set, without building
    it: its ``metainfo.classes``, else its type's ``METAINFO`` (mmpretrain's
    ImageNet has the 1000 names); None when neither says.

    Example:
        >>> from mmengine.config import Config
        >>> cfg = Config(dict(test_dataloader=dict(dataset=dict(
        ...     type='ImageNet', metainfo=dict(classes=['cat', 'dog'])))))
        >>> config_class_names(cfg)
        ['cat', 'dog']
    """
    dataset = (cfg.get(loader) or {}).get('dataset') or {}
    names = (dataset.get('metainfo') or {}).get('classes')
    if names is None and dataset.get('type') is not None:
        dataset_type = dataset['type']
        if isinstance(dataset_type, str):
            from mmpre_inception.registry import DATASETS
            dataset_type = DATASETS.get(dataset_type)
        names = getattr(dataset_type, 'METAINFO', {}).get('classes')
    return list(names) if names is not None else None
