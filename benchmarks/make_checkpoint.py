"""Write a random-weight Inception V3 checkpoint, in mmpretrain's published
layout, whose predictions are not degenerate: a stand-in for trained
weights when comparing two evaluation paths image by image.

Plain random weights saturate the softmax (every top-1 score is 1.0), so
"the scores agree within 1e-4" would say nothing. Here the BatchNorm
statistics are measured on real images (as BatchNorm recalibration does),
which keeps every layer's activations at unit scale, and the classifier is
scaled so the logits have a chosen spread.

Example:
    python benchmarks/make_checkpoint.py \\
        data/imagenet work_dirs/benchmark_ckpt.pth
"""
import argparse
import os.path as osp
import sys

from mmpre_inception.apis.cli import (command_line, positive_float,
                                      positive_int, seed_int, tool_parser)


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    parser.add_argument('data_root',
                        help='ImageNet-layout folder (meta/val.txt, val/)')
    parser.add_argument('out', help='checkpoint to write')
    parser.add_argument('--images', type=positive_int, default=64,
                        help='images to measure the BatchNorm statistics on')
    parser.add_argument('--logit-std', type=positive_float, default=3.0,
                        help='standard deviation of the logits')
    parser.add_argument('--seed', type=seed_int, default=0)
    return parser.parse_args(argv)


def load_images(data_root: str, count: int, pipeline_cfg) -> dict:
    """The first ``count`` images of ``meta/val.txt``, through
    ``pipeline_cfg``; a bad annotation file raises AnnotationError."""
    from mmengine.dataset import Compose, pseudo_collate
    from mmengine.registry import DefaultScope

    from mmpre_inception.apis import check_annotation_file
    from mmpre_inception.errors import AnnotationError
    ann_file = osp.join(data_root, 'meta', 'val.txt')
    if check_annotation_file(ann_file, osp.join(data_root, 'val')) == 0:
        raise AnnotationError(f'{ann_file}: no images listed')
    with open(ann_file, encoding='utf-8') as f:
        names = [line.strip().rsplit(' ', 1)[0] for line in f][:count]
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        pipeline = Compose(pipeline_cfg)
        return pseudo_collate([
            pipeline(dict(img_path=osp.join(data_root, 'val', name)))
            for name in names
        ])


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line() as outcome:
        import torch
        from mmengine.config import Config

        from measure.calibration import calibrate
        from measure.mmpretrain_reference import (
            build_mmpretrain_classifier, mmpretrain_inception_config_path)
        from mmpre_inception.apis import save_checkpoint_atomically
        torch.manual_seed(args.seed)
        cfg = Config.fromfile(mmpretrain_inception_config_path())
        model = build_mmpretrain_classifier(cfg)
        model.init_weights()
        batch = load_images(args.data_root, args.images, cfg.test_pipeline)
        inputs = model.data_preprocessor(batch)['inputs']
        logits = calibrate(
            model, inputs, model.backbone.fc, args.logit_std, chunk=16,
            forward=lambda x: model(x, mode='tensor'), batchnorm_bias=None)
        top1 = logits.softmax(1).max(1).values
        save_checkpoint_atomically(
            model.state_dict(), args.out,
            meta=dict(note='random weights, BatchNorm statistics measured '
                      f'on {len(top1)} images of {args.data_root}; not '
                      'trained', seed=args.seed))
        print(f'wrote {args.out}: logit std {logits.std():.2f}, top-1 '
              f'scores {top1.min():.3f}..{top1.max():.3f} on {len(top1)} '
              'images')
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
