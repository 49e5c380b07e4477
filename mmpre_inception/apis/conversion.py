"""Converting other libraries' Inception V3 weights, and publishing a
checkpoint, file to file (``tools/model_converters/``)."""
import hashlib
import io
import os
import os.path as osp

import torch

from mmpre_inception.checkpoint import (CheckpointError, read_weights,
                                        save_checkpoint_atomically,
                                        write_atomically)
from mmpre_inception.models.conversion import (check_source_layout,
                                               convert_keras, convert_timm,
                                               convert_torchvision)
from mmpre_inception.utils import ConfigError, check_file_exists

#: The config that evaluates each timm tag's weights (its normalisation
#: and resize).
TIMM_CONFIGS = {
    'tv': 'configs/timm/inception_v3_timm_tf_norm_in1k.py',
    'tf': 'configs/timm/inception_v3_timm_tf_norm_in1k.py',
    'tf_adv': 'configs/timm/inception_v3_timm_tf_norm_in1k.py',
    'gluon': 'configs/timm/inception_v3_timm_gluon_in1k.py',
}
KERAS_CONFIG = 'configs/tensorflow/inception_v3_keras_in1k.py'


def convert_torchvision_file(src: str, dst: str,
                             transform_input: bool = True) -> int:
    """torchvision's ``inception_v3`` state dict to our layout, its
    ``transform_input`` folded into the stem.

    Returns:
        int: The number of tensors written.

    Raises:
        CheckpointError: ``src`` is unreadable or not torchvision's layout.
    """
    check_file_exists(src, 'checkpoint')
    weights = read_weights(src)
    check_source_layout(weights, src, 'torchvision')
    converted = convert_torchvision(weights, transform_input=transform_input)
    save_checkpoint_atomically(
        converted, dst, meta=dict(source='torchvision', source_file=src,
                                  transform_input=transform_input))
    return len(converted)


def convert_timm_file(src: str, dst: str, variant: str) -> str:
    """timm's ``inception_v3.<variant>_in1k`` weights to our layout.

    Returns:
        str: The config that evaluates them.
    """
    check_file_exists(src, 'checkpoint')
    weights = read_weights(src)
    check_source_layout(weights, src, 'timm')
    save_checkpoint_atomically(
        convert_timm(weights), dst,
        meta=dict(source=f'timm inception_v3.{variant}_in1k',
                  source_file=src, config=TIMM_CONFIGS[variant]))
    return TIMM_CONFIGS[variant]


def convert_keras_file(src: str, dst: str, classes: int = 1000) -> str:
    """``keras.applications.InceptionV3`` weights to our layout (TF-slim's
    background class dropped).

    Returns:
        str: The config that evaluates them.

    Raises:
        ConfigError: TensorFlow is not installed.
        CheckpointError: ``src`` does not load into that Keras model.
    """
    check_file_exists(src, 'weights')
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
    try:
        import keras
    except ImportError:
        raise ConfigError('the Keras converter needs TensorFlow: pip '
                          'install -r requirements/optional.txt') from None
    model = keras.applications.InceptionV3(
        weights=None, classes=classes, classifier_activation=None)
    try:
        model.load_weights(src)
    except (ValueError, OSError) as error:
        raise CheckpointError(
            f'cannot load {src} into keras.applications.InceptionV3('
            f'classes={classes}): {error}') from None
    save_checkpoint_atomically(
        convert_keras(model), dst,
        meta=dict(source='keras.applications.InceptionV3', source_file=src,
                  config=KERAS_CONFIG))
    return KERAS_CONFIG


PUBLISHED_KEYS = ('state_dict', 'meta')
_DROP = object()


def _plain(value):
    """``value`` without anything but tensors, numbers, strings and the
    dicts, lists and tuples of them; what the safe loader reads back."""
    if isinstance(value, (torch.Tensor, str, int, float, bool, type(None))):
        return value
    if isinstance(value, dict):
        kept = {key: _plain(item) for key, item in value.items()
                if isinstance(key, (str, int))}
        return {key: item for key, item in kept.items() if item is not _DROP}
    if isinstance(value, (list, tuple)):
        items = [_plain(item) for item in value]
        return type(value)(item for item in items if item is not _DROP)
    return _DROP


def publish(in_file: str, out_file: str, trust_pickle: bool = False) -> str:
    """Write the release form of a checkpoint: its ``state_dict`` and
    ``meta`` (plain values only), named ``<stem>-<sha256[:8]><ext>``.

    Args:
        in_file (str): Any checkpoint the safe reader takes; with
            ``trust_pickle`` also one holding arbitrary objects.
        out_file (str): Desired output path; the sha256 prefix is added
            before the extension.
        trust_pickle (bool): Read ``in_file`` with unrestricted unpickling
            (``weights_only=False``), which runs any code the file carries:
            only for files from a source you trust. The output keeps only
            tensors and plain values, so it loads safely afterwards.

    Returns:
        str: The path written.

    Example:
        >>> publish('epoch_100.pth', 'inception_v3.pth')  # doctest: +SKIP
        '.../inception_v3-1a2b3c4d.pth'
    """
    check_file_exists(in_file, 'checkpoint')
    if trust_pickle:
        checkpoint = torch.load(in_file, map_location='cpu',
                                weights_only=False)
        if isinstance(checkpoint, torch.nn.Module):
            # torch.save(model): its weights are what is published.
            checkpoint = {'state_dict': checkpoint.state_dict()}
        elif isinstance(checkpoint, dict) and 'state_dict' not in \
                checkpoint and checkpoint and all(
                    isinstance(v, torch.Tensor) for v in checkpoint.values()):
            checkpoint = {'state_dict': checkpoint}
        if not isinstance(checkpoint, dict) or 'state_dict' not in checkpoint:
            raise CheckpointError(
                f'{in_file} holds a {type(checkpoint).__name__} without a '
                '"state_dict" or tensors; expected a Runner checkpoint, a '
                'state dict or a saved module')
    else:
        from mmpre_inception.checkpoint import read_checkpoint
        checkpoint = read_checkpoint(in_file)
        for key in ('weights_from', 'ddp_prefix_removed'):
            checkpoint['meta'].pop(key, None)
        if not checkpoint['meta']:
            del checkpoint['meta']
    published = {key: _plain(checkpoint[key]) for key in PUBLISHED_KEYS
                 if key in checkpoint}
    buffer = io.BytesIO()
    torch.save(published, buffer)
    data = buffer.getvalue()
    stem, ext = osp.splitext(osp.abspath(out_file))
    final_path = f'{stem}-{hashlib.sha256(data).hexdigest()[:8]}' \
        f'{ext or ".pth"}'
    write_atomically(data, final_path)
    return final_path
