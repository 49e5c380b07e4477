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
import os
import os.path as osp
import sys
import tempfile

import torch

import mmpre_inception  # noqa: F401 (allow-list for weights_only loading)

KEPT_KEYS = ('state_dict', 'meta')


def publish(in_file: str, out_file: str) -> str:
    """Write the published form of ``in_file`` next to ``out_file``.

    Args:
        in_file (str): Checkpoint saved by the Runner.
        out_file (str): Desired output path; the sha256 prefix is added
            before the extension.

    Returns:
        str: The path written.
    """
    if not osp.isfile(in_file):
        raise FileNotFoundError(f'checkpoint file not found: {in_file}')
    checkpoint = torch.load(in_file, map_location='cpu', weights_only=True)
    if not isinstance(checkpoint, dict) or 'state_dict' not in checkpoint:
        raise ValueError(f'{in_file} has no "state_dict"; is it a Runner '
                         'checkpoint?')
    published = {key: checkpoint[key] for key in KEPT_KEYS
                 if key in checkpoint}
    out_dir = osp.dirname(osp.abspath(out_file))
    os.makedirs(out_dir, exist_ok=True)
    # Write to a temporary file in the same folder, then rename: a crash
    # never leaves a partial file under the final name.
    fd, tmp_path = tempfile.mkstemp(dir=out_dir, suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save(published, f)
            f.flush()
            os.fsync(f.fileno())
        with open(tmp_path, 'rb') as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        stem, ext = osp.splitext(osp.abspath(out_file))
        final_path = f'{stem}-{digest[:8]}{ext or ".pth"}'
        os.replace(tmp_path, final_path)
    except BaseException:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        raise
    return final_path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('in_file', help='checkpoint saved by the Runner')
    parser.add_argument('out_file', help='output path (sha256 prefix added)')
    args = parser.parse_args(argv)
    try:
        path = publish(args.in_file, args.out_file)
    except (FileNotFoundError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    print(f'Published {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
