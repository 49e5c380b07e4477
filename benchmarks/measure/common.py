"""What every benchmark mode shares: timing, precision, inputs, memory and
the line that says what ran where."""
import importlib.util
import os.path as osp
import platform
import resource
import statistics
import time
from typing import Callable, Optional

import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def make_synthetic_imagenet(root: str, *args, **kwargs) -> dict:
    """The demo's shapes data set, written by the function of
    ``tools/dataset_converters/make_synthetic_imagenet.py`` (a script, not
    part of the package)."""
    path = osp.join(REPO, 'tools', 'dataset_converters',
                    'make_synthetic_imagenet.py')
    spec = importlib.util.spec_from_file_location('make_synthetic', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_synthetic_imagenet(root, *args, **kwargs)


def median_rate(step: Callable[[], int], warmup: int, runs: int,
                device: str) -> float:
    """Images/s of ``step`` (which returns how many images it did): the
    median over ``runs`` calls after ``warmup`` calls."""

    def timed() -> float:
        start = time.perf_counter()
        count = step()
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        return count / (time.perf_counter() - start)

    for _ in range(warmup):
        step()
    return statistics.median(timed() for _ in range(runs))


def autocast(device: str, precision: str):
    """``torch.autocast`` for ``precision`` (``fp32`` leaves it off)."""
    dtype = dict(bf16=torch.bfloat16, fp16=torch.float16).get(precision)
    return torch.autocast(torch.device(device).type, dtype=dtype,
                          enabled=dtype is not None)


def random_images(batch_size: int, shape: int, device: str,
                  channels_last: bool) -> torch.Tensor:
    """A fixed batch of normalised-looking random images."""
    images = torch.rand(batch_size, 3, shape, shape,
                        generator=torch.Generator().manual_seed(0)) * 4 - 2
    images = images.to(device)
    return images.contiguous(memory_format=torch.channels_last) \
        if channels_last else images


def peak_memory(device: str) -> str:
    if device.startswith('cuda'):
        return f'{torch.cuda.max_memory_allocated() / 2**20:.0f} MiB (CUDA)'
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return f'{kib / 2**10:.0f} MiB (process RSS)'


def cpu_name() -> str:
    """The CPU's model name (benchmarks say which CPU they ran on)."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_machine(device: str) -> str:
    if device.startswith('cuda'):
        return torch.cuda.get_device_name(device)
    return f'{cpu_name()}, {torch.get_num_threads()} threads'


def print_rates(label: str, rates: dict,
                calls: Optional[dict] = None) -> None:
    """One line per model: img/s, the ratio of ours to it, and (train
    mode) the aten calls of one step against the network's own."""
    ours = rates['mmpre_inception']
    for name, rate in rates.items():
        ratio = '' if name == 'mmpre_inception' else \
            f'  (mmpre_inception is {ours / rate:.2f}x)'
        extra = ''
        if calls and name in calls:
            step, network = calls[name]
            extra = (f'  {step} aten calls/step, {step / network:.2f}x the '
                     "network's")
        print(f'{label}  {name:16s} {rate:9.1f} img/s{extra}{ratio}')
