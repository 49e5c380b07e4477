"""Train a model from a config, as mmpretrain's ``tools/train.py`` does.

Example:
    python tools/train.py configs/inception_v3_8xb32_in1k.py
    python tools/train.py CONFIG --resume            # from the last checkpoint
    bash tools/dist_train.sh CONFIG 8                # 8 GPUs
"""
import argparse
import contextlib
import sys

from mmpre_inception.apis.cli import (add_cfg_options, command_line,
                                      parse_distributed_args, tool_parser)


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    add = parser.add_argument
    add('config', help='train config file path')
    add('--work-dir', help='where logs and checkpoints go')
    add('--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint, or without a path from the last '
        'checkpoint in the work dir')
    add('--amp', action='store_true',
        help='mixed precision: float16 with loss scaling on a GPU, '
        'bfloat16 on a CPU (see --amp-dtype)')
    add('--amp-dtype', choices=['float16', 'bfloat16'],
        help='--amp precision; default float16 on a GPU, bfloat16 on a CPU '
        '(CPUs have no float16 autocast)')
    add('--nchw', action='store_true',
        help='keep weights and inputs in the NCHW memory format (the '
        'configs use channels-last, which trains faster)')
    add('--compile', action='store_true',
        help="torch.compile the training step (mmengine's compile key; "
        'the first iterations are slow while it compiles)')
    add('--no-validate', action='store_true',
        help='skip validation during training')
    add('--auto-scale-lr', action='store_true',
        help='scale the learning rate with the real total batch size')
    add('--no-pin-memory', action='store_true',
        help='do not pin memory in the data loaders')
    add('--no-persistent-workers', action='store_true',
        help='do not keep data loader workers between epochs')
    add('--skip-unreadable', action='store_true',
        help='skip (and log) unreadable images instead of stopping')
    add('--gpu-decode', action='store_true',
        help='decode and transform the images on the device (nvJPEG on a '
        'GPU): the data workers only read the files and draw the crops')
    add_cfg_options(parser)
    return parse_distributed_args(parser, argv)


def merge_args(cfg, args, apis):
    """Apply the options to the config; each one sets a key a user can see
    in the config saved in the work dir."""
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.launcher = args.launcher
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or \
        apis.default_work_dir(args.config)
    if args.amp_dtype and not args.amp:
        raise apis.ConfigError('--amp-dtype needs --amp')
    if args.amp:
        apis.set_mixed_precision(cfg.optim_wrapper, args.amp_dtype)
    if args.nchw:
        cfg.model.channels_last = False
    if args.compile and not cfg.get('compile'):
        cfg.compile = True  # a compile dict in the config keeps its options
    if args.resume is not None:
        apis.resume_from(cfg, args.resume)
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    if args.gpu_decode:
        apis.use_device_decoding(cfg, ['train_dataloader', 'val_dataloader'])
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if loader and args.no_pin_memory:
            loader['pin_memory'] = False
        if loader and args.no_persistent_workers:
            loader['persistent_workers'] = False
    return cfg


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line() as outcome:
        from mmpre_inception import apis
        cfg = merge_args(apis.load_config(args.config, args.cfg_options),
                         args, apis)
        lock = apis.prepare_train_config(cfg, args.skip_unreadable)
        with lock or contextlib.nullcontext(), apis.process_group(
                args.launcher,
                cfg.get('env_cfg', {}).get('dist_cfg', {}).get('timeout')):
            apis.train(cfg)
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
