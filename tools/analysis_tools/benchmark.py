"""Model-only inference throughput of a config's model, and of the same
network in mmpretrain, torchvision and timm (``--compare``).

Prints images/s: the median of ``--runs`` timed runs after ``--warmup``
untimed ones, on the same random input for every model. Also prints the
peak memory: CUDA's allocator peak on a GPU, the process's peak resident
set on a CPU.

Example:
    python tools/analysis_tools/benchmark.py configs/inception_v3_8xb32_in1k.py \
        --batch-size 8 --channels-last --fold-bn --compare
"""
import argparse
import resource
import statistics
import sys
import time
from typing import Callable, Dict

import torch

from mmpre_inception.apis import init_model
from mmpre_inception.models.deploy import fold_batchnorm


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?',
                        help='weights (random ones without it)')
    parser.add_argument('--batch-size', type=int, nargs='+', default=[8])
    parser.add_argument('--shape', type=int, default=299)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--precision', choices=['fp32', 'bf16', 'fp16'],
                        default='fp32', help='autocast dtype')
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument('--fold-bn', action='store_true',
                        help='fold BatchNorm into the convolutions')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--threads', type=int,
                        help='torch intra-op threads (CPU)')
    parser.add_argument(
        '--compare',
        action='store_true',
        help='also time mmpretrain\'s, torchvision\'s and timm\'s '
        'inception_v3 with the same settings and print ratios')
    return parser.parse_args(argv)


def our_model(args) -> torch.nn.Module:
    model = init_model(args.config, args.checkpoint)

    class Logits(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, x):
            return self.model(x, mode='tensor')

    return Logits()


def other_models() -> Dict[str, Callable[[], torch.nn.Module]]:
    """Builders of the other libraries' networks (inference form, no
    auxiliary classifier), for those that are installed."""
    builders = {}
    try:
        from mmpretrain.models.backbones import InceptionV3

        def mmpretrain_model():
            model = InceptionV3(num_classes=1000, aux_logits=False)
            model.init_weights()
            return model

        builders['mmpretrain'] = mmpretrain_model
    except ImportError:
        pass
    try:
        import torchvision
        builders['torchvision'] = lambda: torchvision.models.inception_v3(
            weights=None, aux_logits=False, init_weights=True)
    except ImportError:
        pass
    try:
        import timm
        builders['timm'] = lambda: timm.create_model('inception_v3')
    except ImportError:
        pass
    return builders


def prepare(model: torch.nn.Module, args) -> torch.nn.Module:
    model.eval()  # mmpretrain's train() returns None, so no chaining
    model = model.to(args.device)
    if args.fold_bn:
        fold_batchnorm(model)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model


def throughput(model: torch.nn.Module, images: torch.Tensor,
               args) -> float:
    dtype = dict(bf16=torch.bfloat16, fp16=torch.float16).get(args.precision)
    device_type = images.device.type

    def step():
        with torch.autocast(device_type, dtype=dtype,
                            enabled=dtype is not None):
            model(images)
        if device_type == 'cuda':
            torch.cuda.synchronize()

    with torch.inference_mode():
        for _ in range(args.warmup):
            step()
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
    return images.shape[0] / statistics.median(times)


def peak_memory(device: str) -> str:
    if device.startswith('cuda'):
        return f'{torch.cuda.max_memory_allocated() / 2**20:.0f} MiB (CUDA)'
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return f'{kib / 2**10:.0f} MiB (process RSS)'


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    models = {'mmpre_inception': our_model(args)}
    if args.compare:
        models.update({name: build() for name, build in
                       other_models().items()})
    models = {name: prepare(model, args) for name, model in models.items()}
    device_name = torch.cuda.get_device_name(args.device) \
        if args.device.startswith('cuda') else \
        f'CPU, {torch.get_num_threads()} threads'
    print(f'{device_name}; torch {torch.__version__}; {args.precision}, '
          f'{"channels_last" if args.channels_last else "NCHW"}'
          f'{", folded BN" if args.fold_bn else ""}; {args.shape}x'
          f'{args.shape}; median of {args.runs} runs after {args.warmup}')
    for batch_size in args.batch_size:
        images = torch.rand(batch_size, 3, args.shape, args.shape,
                            device=args.device) * 4 - 2
        if args.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        rates = {name: throughput(model, images, args)
                 for name, model in models.items()}
        ours = rates['mmpre_inception']
        for name, rate in rates.items():
            ratio = '' if name == 'mmpre_inception' else \
                f'  (mmpre_inception is {ours / rate:.2f}x)'
            print(f'batch {batch_size:4d}  {name:16s} {rate:9.1f} img/s'
                  f'{ratio}')
    print(f'peak memory: {peak_memory(args.device)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
