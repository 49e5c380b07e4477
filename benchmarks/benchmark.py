"""Throughput of a config's Inception V3: the model alone, a training step,
or evaluation end to end (decode, resize, model).

Every figure is images/s, the median of ``--runs`` timed runs after
``--warmup`` untimed ones, followed by the peak memory (CUDA's allocator
peak on a GPU, the process's peak resident set on a CPU).

* ``--mode model``: forward passes on one random batch.
* ``--mode train``: the config's training step as mmengine's Runner runs
  it (optimizer wrapper with clipping, weight average, hooks; data loading
  left out), on ``--data-root``'s ``--split`` or generated images, with
  the aten calls of one step against the network's own forward, loss and
  backward (on a GPU each call is a kernel launch). ``--compare`` adds
  mmpretrain's config the same way and torchvision's and timm's networks
  with a plain SGD step.
* ``--mode e2e``: the config's test data loader and the model over an
  ImageNet-layout folder (``--data-root``), as ``tools/test.py`` runs them.
  A run is one pass over the images; warm-up runs are batches.
  ``--gpu-decode`` runs it as ``tools/test.py --gpu-decode`` does
  (nvJPEG on ``--device``, the workers only reading files).
* ``--mode loader``: the config's test and training pipelines alone, in
  this process (one data worker): img/s per worker as the CPU runs them
  and as ``--gpu-decode``'s workers do, and ``--gpu-decode``'s decoding on
  ``--device``, on ``--data-root`` (``meta/val.txt`` and
  ``meta/train.txt``) or generated photo-sized JPEGs.

``--compare`` also times mmpretrain's, torchvision's and timm's
``inception_v3`` in the same process on the same inputs, and prints how
many times faster ours is. In e2e mode the comparison is mmpretrain's own
config (its pipeline, model and memory format).

``--compile`` compiles ours (``torch.compile``; the config's ``compile``
key in train mode); the anchors stay eager.

Example:
    python benchmarks/benchmark.py \\
        configs/inception_v3_8xb32_in1k.py --batch-size 8 32 --compare
    python benchmarks/benchmark.py \\
        configs/inception_v3_8xb32_in1k.py --mode train --compare
    python benchmarks/benchmark.py \\
        configs/inception_v3_8xb32_in1k.py CKPT --mode e2e --fold-bn \\
        --data-root data/imagenet --max-images 5000
    python benchmarks/benchmark.py \\
        configs/inception_v3_8xb32_in1k.py --mode loader
"""

import argparse
import sys

from mmpre_inception.apis.cli import (MAX_SIDE, MIN_SIDE, command_line, int_in,
                                      positive_int, tool_parser)


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    add = parser.add_argument
    add('config')
    add('checkpoint', nargs='?', help='weights (random ones without it)')
    add('--mode', choices=['model', 'train', 'e2e', 'loader'],
        default='model')
    add('--batch-size', type=positive_int, nargs='+',
        help="default: 8 (model, train), the config's (e2e)")
    add('--shape', type=int_in(MIN_SIDE, MAX_SIDE), default=299,
        help='input size for the model and train modes')
    add('--device', default='cpu')
    add('--precision', choices=['fp32', 'bf16', 'fp16'], default='fp32',
        help='autocast dtype')
    add('--memory-format', choices=['channels_last', 'nchw'],
        default='channels_last')
    add('--fold-bn', action='store_true',
        help='fold BatchNorm into the convolutions (model and e2e modes; '
        'tools/test.py does)')
    add('--no-cpu-chunk', action='store_true',
        help="run CPU batches whole instead of in the model's "
        'cpu_inference_chunk')
    add('--compile', action='store_true',
        help='torch.compile ours (train: the config\'s compile key)')
    add('--data-root', help='e2e: an ImageNet-layout folder (meta/val.txt, '
        'val/); train: one with --split; loader: one with both splits '
        '(default: generated images)')
    add('--split', default='train',
        help='train: the annotation file meta/SPLIT.txt and folder SPLIT/')
    add('--max-images', type=positive_int,
        help='e2e: only the first N; loader: per pass (default 200)')
    add('--gpu-decode', action='store_true',
        help='e2e: decode on --device, as tools/test.py --gpu-decode')
    add('--warmup', type=int_in(0), default=2)
    add('--runs', type=positive_int, default=5)
    add('--threads', type=positive_int, help='torch intra-op threads (CPU)')
    add('--cudnn-benchmark', action='store_true',
        help='let cuDNN time its convolution algorithms first '
        '(env_cfg.cudnn_benchmark in a config)')
    add('--compare', action='store_true',
        help="also time mmpretrain's, torchvision's and timm's inception_v3 "
        'and print ratios')
    args = parser.parse_args(argv)
    if args.mode == 'e2e' and args.gpu_decode and args.compare:
        parser.error("--compare runs mmpretrain's own pipeline; give "
                     '--gpu-decode without it')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line() as outcome:
        import torch

        import measure as benchmarks
        from mmpre_inception import register_all_modules
        from mmpre_inception.apis import check_file_exists, load_config
        register_all_modules()
        if args.checkpoint:
            check_file_exists(args.checkpoint, 'checkpoint')
        if args.threads:
            torch.set_num_threads(args.threads)
        torch.backends.cudnn.benchmark = args.cudnn_benchmark
        torch.manual_seed(0)
        cfg = load_config(args.config)
        channels_last = args.memory_format == 'channels_last'
        cfg.model.channels_last = channels_last
        if args.no_cpu_chunk:
            cfg.model.cpu_inference_chunk = None
        print(f'{benchmarks.describe_machine(args.device)}; torch '
              f'{torch.__version__}; {args.mode}, {args.precision}, '
              f'{args.memory_format}' + (', compiled' if args.compile
                                         else '') +
              f'; median of {args.runs} runs after {args.warmup} warm-up')
        timing = dict(device=args.device, precision=args.precision,
                      warmup=args.warmup, runs=args.runs)
        if args.mode == 'e2e':
            benchmarks.print_rates('e2e', benchmarks.e2e_rates(
                cfg, args.checkpoint, data_root=args.data_root,
                max_images=args.max_images,
                batch_size=(args.batch_size or [None])[0],
                gpu_decode=args.gpu_decode, channels_last=channels_last,
                fold_bn=args.fold_bn, compare=args.compare, **timing))
        elif args.mode == 'loader':
            for name, rate in benchmarks.loader_rates(
                    cfg, data_root=args.data_root, max_images=args.max_images
                    or 200, batch_size=(args.batch_size or [32])[0],
                    device=args.device, warmup=args.warmup,
                    runs=args.runs).items():
                print(f'loader  {name:34s} ' + (
                    f'{rate:9.1f} img/s' if rate else '      n/a'))
        elif args.mode == 'model':
            models = benchmarks.inference_models(
                cfg, args.checkpoint, device=args.device,
                channels_last=channels_last, fold_bn=args.fold_bn,
                compare=args.compare, compile_ours=args.compile)
            for batch_size in args.batch_size or [8]:
                benchmarks.print_rates(
                    f'batch {batch_size:4d}', benchmarks.model_rates(
                        models, batch_size=batch_size, shape=args.shape,
                        channels_last=channels_last, **timing))
        else:
            for batch_size in args.batch_size or [8]:
                rates, calls = benchmarks.train_rates(
                    cfg, data_root=args.data_root, split=args.split,
                    batch_size=batch_size, shape=args.shape,
                    channels_last=channels_last, compare=args.compare,
                    compile_ours=args.compile, **timing)
                benchmarks.print_rates(f'batch {batch_size:4d}', rates,
                                       calls)
        print(f'peak memory: {benchmarks.peak_memory(args.device)}')
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
