"""Evaluate a checkpoint, as mmpretrain's ``tools/test.py`` does.

Takes our checkpoints, mmpretrain's published layout (``backbone.fc.*``),
flat state dicts and ``.safetensors``; the Runner reads, checks and loads
``load_from``. Each option sets a key of the config (saved in the work
dir); everything else is the config's: e.g. BatchNorm folding is its
``default_hooks.fold_batchnorm``.

Example:
    python tools/test.py configs/inception_v3_8xb32_in1k.py CKPT \\
        --cfg-options test_dataloader.dataset.data_root=/data/imagenet
    bash tools/dist_test.sh CONFIG CKPT 8
    # 144 crops per image (GoogLeNet's protocol), softmax averaged
    python tools/test.py configs/multi_crop/inception_v3_144crop_in1k.py \\
        CKPT --tta
    # an ensemble: each checkpoint with its own config, softmax averaged
    python tools/test.py configs/inception_v3_8xb32_in1k.py A.pth \\
        --ensemble configs/tensorflow/inception_v3_keras_in1k.py B.pth
"""
import argparse
import os.path as osp
import sys

from mmpre_inception.apis.cli import (add_cfg_options, command_line,
                                      non_negative_float,
                                      parse_distributed_args, positive_int,
                                      tool_parser)


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    add = parser.add_argument
    add('config', help='test config file path')
    add('checkpoint', help='checkpoint file (.pth, .safetensors or a URL)')
    add('--work-dir', help='where logs and metrics go')
    add('--out', help='write every prediction here (a .pkl file), or with '
        '--out-item metrics the metrics (JSON); checked before the run')
    add('--out-item', choices=['metrics', 'pred'],
        help='what --out holds: "pred" (default) or "metrics"')
    add_cfg_options(parser)
    add('--show-dir', help='save images with their predictions here')
    add('--show', action='store_true', help='show predictions in a window')
    add('--interval', type=positive_int, default=1,
        help='visualize every N images')
    add('--wait-time', type=non_negative_float, default=2,
        help='--show wait, seconds')
    add('--amp', action='store_true',
        help='autocast inference: float16 on a GPU, bfloat16 on a CPU')
    add('--nchw', action='store_true',
        help='keep the NCHW memory format (default: channels-last)')
    add('--no-fold-bn', action='store_true', help='keep BatchNorm unfolded '
        '(removes default_hooks.fold_batchnorm; same logits within rounding)')
    add('--compile', action='store_true',
        help="torch.compile the test step (the config's compile key, which "
        'mmengine applies to training): faster after a slow first batch')
    add('--tta', action='store_true',
        help="the config's tta_pipeline views (default: the image and its "
        'mirror) scored by its tta_model (default: mean softmax); '
        'configs/multi_crop/ hold 10, 12 and 144 crops')
    add('--ensemble', nargs='+', metavar='CONFIG CKPT', default=[],
        help='more members: pairs of a config and a checkpoint, each run '
        "with its own preprocessing; scores are the mean of the members' "
        'softmax, and --out and the metrics are the ensemble\'s')
    add('--skip-unreadable', action='store_true',
        help='skip (and log) unreadable images instead of stopping')
    add('--gpu-decode', action='store_true', help='decode and transform '
        'on the device (nvJPEG on a GPU): the data workers only read files')
    add('--no-pin-memory', action='store_true',
        help='do not pin memory in the data loader')
    return parse_distributed_args(parser, argv)


def merge_args(cfg, args, checkpoint: str, work_dir: str):
    """Apply the options to the config; each one sets a key a user can see
    in the config saved in the work dir."""
    cfg.launcher = args.launcher
    cfg.work_dir = work_dir
    cfg.load_from = checkpoint  # as mmpretrain's: the Runner loads it
    if args.show or args.show_dir:
        cfg.default_hooks.visualization.update(
            enable=True, show=args.show, wait_time=args.wait_time,
            interval=args.interval, out_dir=args.show_dir)
    if args.no_pin_memory:
        cfg.test_dataloader['pin_memory'] = False
    if args.amp:  # mmengine's test loop autocasts with this flag
        cfg.test_cfg = dict(cfg.get('test_cfg') or {}, fp16=True)
    if args.nchw:
        cfg.model.channels_last = False
    if args.compile and not cfg.get('compile'):
        cfg.compile = True  # a compile dict in the config keeps its options
    if args.no_fold_bn:  # mmengine accepts None only for its own hooks
        cfg.get('default_hooks', {}).pop('fold_batchnorm', None)
    return cfg


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line() as outcome:
        from mmpre_inception import apis
        pairs = apis.ensemble_pairs(args.config, args.checkpoint,
                                    args.ensemble)
        predictions = args.out if args.out_item != 'metrics' else None
        if args.out:
            apis.check_out_path(args.out, args.out_item)
        ensemble_dir = args.work_dir or apis.default_work_dir(
            args.config) + '_ensemble'
        configs = []
        for number, (config, checkpoint) in enumerate(pairs, start=1):
            cfg = apis.load_config(config, args.cfg_options)
            apis.check_file_exists(checkpoint, 'checkpoint')
            work_dir = osp.join(ensemble_dir, f'member{number}') if len(
                pairs) > 1 else args.work_dir or cfg.get(
                    'work_dir') or apis.default_work_dir(config)
            cfg = merge_args(cfg, args, checkpoint, work_dir)
            if len(pairs) > 1:  # Runners of one process share a logger
                cfg.experiment_name = f'member{number}_' + osp.splitext(
                    osp.basename(config))[0]
            configs.append(apis.prepare_test_config(
                cfg, args.tta, args.skip_unreadable, args.gpu_decode,
                read_checkpoint_now=len(pairs) > 1))
        with apis.process_group(args.launcher, configs[0].get(
                'env_cfg', {}).get('dist_cfg', {}).get('timeout')):
            if len(configs) == 1:
                metrics = apis.evaluate(configs[0], predictions)
                members = []
            else:
                metrics, members = apis.evaluate_ensemble(configs,
                                                          predictions)
            reporting = apis.is_main_process()
        if reporting:
            if args.out and args.out_item == 'metrics':
                apis.write_metrics(metrics, args.out)
            for number, values in enumerate(members, start=1):
                print(f'Member {number} {configs[number - 1].filename}: '
                      f'{apis.summary(values)}')
            evaluated = args.checkpoint if len(configs) == 1 else \
                f'an ensemble of {len(configs)}'
            print(f'Evaluated {evaluated}: {apis.summary(metrics)}')
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
