"""Turn a training checkpoint into a release file, as OpenMMLab publishes.

Keeps ``state_dict`` and ``meta``; drops the optimizer, message hub and
scheduler state, which only resuming needs. The output is named
``<OUT stem>-<first 8 hex digits of its sha256>.pth`` and written atomically.

Example:
    python tools/model_converters/publish_model.py \
        work_dirs/inception_v3/epoch_100.pth inception_v3_in1k.pth
    # -> inception_v3_in1k-1a2b3c4d.pth
"""
import argparse
import hashlib
import io
import os.path as osp
import sys

import torch

from mmpre_inception.checkpoint import (CheckpointError, load_checkpoint_file,
                                        write_atomically)

KEPT_KEYS = ('state_dict', 'meta')


def plain(value):
    """``value`` without anything but tensors, numbers, strings and the
    dicts, lists and tuples of them; what the safe loader reads back."""
    if isinstance(value, (torch.Tensor, str, int, float, bool, type(None))):
        return value
    if isinstance(value, dict):
        kept = {key: plain(item) for key, item in value.items()
                if isinstance(key, (str, int))}
        return {key: item for key, item in kept.items() if item is not DROP}
    if isinstance(value, (list, tuple)):
        items = [plain(item) for item in value]
        return type(value)(item for item in items if item is not DROP)
    return DROP


DROP = object()


def publish(in_file: str, out_file: str, trust_pickle: bool = False) -> str:
    """Write the published form of ``in_file`` next to ``out_file``.

    Args:
        in_file (str): Checkpoint saved by the Runner.
        out_file (str): Desired output path; the sha256 prefix is added
            before the extension.
        trust_pickle (bool): Read ``in_file`` with unrestricted unpickling
            (``weights_only=False``), which runs any code the file carries:
            only for files from a source you trust. The output keeps only
            tensors and plain values, so it loads safely afterwards.

    Returns:
        str: The path written.
    """
    if trust_pickle:
        if not osp.isfile(in_file):
            raise CheckpointError(f'checkpoint file not found: {in_file}')
        checkpoint = torch.load(in_file, map_location='cpu',
                                weights_only=False)
    else:
        checkpoint = load_checkpoint_file(in_file)
    if isinstance(checkpoint, torch.nn.Module):
        # torch.save(model): the whole module, which only --trust-pickle
        # reads; its weights are what is published.
        checkpoint = {'state_dict': checkpoint.state_dict()}
    elif isinstance(checkpoint, dict) and 'state_dict' not in checkpoint \
            and checkpoint and all(isinstance(value, torch.Tensor)
                                   for value in checkpoint.values()):
        checkpoint = {'state_dict': checkpoint}  # a bare state dict
    if not isinstance(checkpoint, dict) or 'state_dict' not in checkpoint:
        raise ValueError(
            f'{in_file} holds a {type(checkpoint).__name__} without a '
            '"state_dict" or tensors; expected a Runner checkpoint, a state '
            'dict or a saved module')
    published = {key: plain(checkpoint[key]) for key in KEPT_KEYS
                 if key in checkpoint}
    buffer = io.BytesIO()
    torch.save(published, buffer)
    data = buffer.getvalue()
    stem, ext = osp.splitext(osp.abspath(out_file))
    final_path = f'{stem}-{hashlib.sha256(data).hexdigest()[:8]}' \
        f'{ext or ".pth"}'
    write_atomically(data, final_path)
    return final_path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('in_file', help='checkpoint saved by the Runner')
    parser.add_argument('out_file', help='output path (sha256 prefix added)')
    parser.add_argument(
        '--trust-pickle',
        action='store_true',
        help='read IN_FILE with unrestricted unpickling, which runs any code '
        'it carries; only for files you trust. The output holds tensors '
        'and plain values only and loads safely')
    args = parser.parse_args(argv)
    try:
        path = publish(args.in_file, args.out_file, args.trust_pickle)
    except (CheckpointError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    print(f'Published {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
