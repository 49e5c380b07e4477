"""Throughput of a config's Inception V3: the model alone, a training step,
or evaluation end to end (decode, resize, model).

Every figure is images/s, the median of ``--runs`` timed runs after
``--warmup`` untimed ones, followed by the peak memory (CUDA's allocator
peak on a GPU, the process's peak resident set on a CPU).

* ``--mode model``: forward passes on one random batch.
* ``--mode train``: forward, loss, backward and optimizer step on one
  random batch, with the config's optimizer.
* ``--mode e2e``: the config's test data loader and the model over an
  ImageNet-layout folder (``--data-root``), as ``tools/test.py`` runs them.
  A run is one pass over the images; warm-up runs are batches.
  ``--decoder torchvision`` decodes and resizes with torchvision on
  ``--device`` (nvJPEG on a GPU) instead of OpenCV in the data workers.

``--compare`` also times mmpretrain's, torchvision's and timm's
``inception_v3`` in the same process on the same inputs, and prints how
many times faster ours is. In e2e mode the comparison is mmpretrain's own
config (its pipeline, model and memory format).

Example:
    python tools/analysis_tools/benchmark.py \\
        configs/inception_v3_8xb32_in1k.py --batch-size 8 32 --compare
    python tools/analysis_tools/benchmark.py \\
        configs/inception_v3_8xb32_in1k.py CKPT --mode e2e --fold-bn \\
        --data-root ../shared/data/imagenet-sample
"""
import argparse
import os.path as osp
import resource
import statistics
import sys
import time
from typing import Callable, Dict, Iterable, Optional

from mmpre_inception.utils import silence_known_warnings

silence_known_warnings()  # before mmcv and mmpretrain warn on import

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from mmcv.cnn import fuse_conv_bn  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmpre_inception.analysis import (  # noqa: E402
    build_mmpretrain_classifier, mmpretrain_inception_config_path)
from mmpre_inception.analysis.torch_decoding import (  # noqa: E402
    EncodedImages, collate_encoded, decode_batch)
from mmpre_inception.apis import init_model  # noqa: E402
from mmpre_inception.checkpoint import (  # noqa: E402
    CheckpointError, check_state_dict_fits, read_weights)
from mmpre_inception.datasets import (  # noqa: E402
    AnnotationError, check_dataset_annotations)
from mmpre_inception.utils import (  # noqa: E402
    ConfigError, check_config_runs_here, resolve_auto_workers)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('checkpoint',
                        nargs='?',
                        help='weights (random ones without it)')
    parser.add_argument('--mode',
                        choices=['model', 'train', 'e2e'],
                        default='model')
    parser.add_argument('--batch-size',
                        type=int,
                        nargs='+',
                        help='default: 8 (model, train), the config\'s (e2e)')
    parser.add_argument('--shape',
                        type=int,
                        default=299,
                        help='input size for the model and train modes')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--precision',
                        choices=['fp32', 'bf16', 'fp16'],
                        default='fp32',
                        help='autocast dtype')
    parser.add_argument('--memory-format',
                        choices=['channels_last', 'nchw'],
                        default='channels_last')
    parser.add_argument('--fold-bn',
                        action='store_true',
                        help='fold BatchNorm into the convolutions '
                        '(model and e2e modes; tools/test.py does)')
    parser.add_argument('--no-cpu-chunk',
                        action='store_true',
                        help='run CPU batches whole instead of in the '
                        'model\'s cpu_inference_chunk')
    parser.add_argument(
        '--data-root',
        help='e2e: an ImageNet-layout folder (meta/val.txt, val/)')
    parser.add_argument('--max-images',
                        type=int,
                        help='e2e: only the first N images')
    parser.add_argument('--decoder',
                        choices=['opencv', 'torchvision'],
                        default='opencv',
                        help='e2e: OpenCV in the data workers (the config\'s '
                        'pipeline) or torchvision on --device')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--threads',
                        type=int,
                        help='torch intra-op threads (CPU)')
    parser.add_argument('--cudnn-benchmark',
                        action='store_true',
                        help='let cuDNN time its convolution algorithms '
                        'first (env_cfg.cudnn_benchmark in a config)')
    parser.add_argument('--compare',
                        action='store_true',
                        help='also time mmpretrain\'s, torchvision\'s and '
                        'timm\'s inception_v3 and print ratios')
    args = parser.parse_args(argv)
    if args.mode == 'e2e' and args.decoder == 'torchvision' and args.compare:
        parser.error('--compare runs mmpretrain\'s own pipeline; use it '
                     'with --decoder opencv')
    return args


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


def autocast(args):
    dtype = dict(bf16=torch.bfloat16, fp16=torch.float16).get(args.precision)
    return torch.autocast(torch.device(args.device).type,
                          dtype=dtype,
                          enabled=dtype is not None)


def load_our_config(args) -> Config:
    cfg = Config.fromfile(args.config)
    cfg.model.channels_last = args.memory_format == 'channels_last'
    if args.no_cpu_chunk:
        cfg.model.cpu_inference_chunk = None
    return cfg


def mmpretrain_classifier(cfg: Config) -> torch.nn.Module:
    model = build_mmpretrain_classifier(cfg)
    model.init_weights()
    return model


def other_networks() -> Dict[str, Callable[[], torch.nn.Module]]:
    """Builders of the other libraries' networks (no auxiliary classifier),
    for those that are installed; each returns logits."""
    builders = {}
    try:
        from mmpretrain.models.backbones import InceptionV3

        class MMPretrainLogits(torch.nn.Module):
            # Its "backbone" ends in the classifier and returns a tuple.
            def __init__(self):
                super().__init__()
                self.net = InceptionV3(num_classes=1000, aux_logits=False)
                self.net.init_weights()

            def forward(self, x):
                return self.net(x)[-1]

        builders['mmpretrain'] = MMPretrainLogits
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


def to_format(model: torch.nn.Module, args) -> torch.nn.Module:
    model = model.to(args.device)
    if args.memory_format == 'channels_last':
        model = model.to(memory_format=torch.channels_last)
    return model


def random_images(batch_size: int, args) -> torch.Tensor:
    images = torch.rand(batch_size,
                        3,
                        args.shape,
                        args.shape,
                        generator=torch.Generator().manual_seed(0)) * 4 - 2
    images = images.to(args.device)
    if args.memory_format == 'channels_last':
        images = images.contiguous(memory_format=torch.channels_last)
    return images


# --mode model ---------------------------------------------------------------
def model_rates(args, batch_size: int,
                models: Dict[str, torch.nn.Module]) -> Dict[str, float]:
    images = random_images(batch_size, args)

    def forward(model):

        def step():
            with torch.inference_mode(), autocast(args):
                model(images)
            return batch_size

        return step

    return {
        name: median_rate(forward(model), args.warmup, args.runs, args.device)
        for name, model in models.items()
    }


def inference_models(args) -> Dict[str, torch.nn.Module]:
    ours = init_model(load_our_config(args), args.checkpoint, args.device)

    class Logits(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.model = ours

        def forward(self, x):
            return self.model(x, mode='tensor')

    models = {'mmpre_inception': Logits()}
    if args.compare:
        torch.manual_seed(0)
        models.update({
            name: build()
            for name, build in other_networks().items()
        })
    for model in models.values():
        model.eval()  # mmpretrain's returns None, so no chaining
        if args.fold_bn:
            with torch.no_grad():
                fuse_conv_bn(model)
    return {name: to_format(model, args) for name, model in models.items()}


# --mode train ---------------------------------------------------------------
def train_rates(args, batch_size: int) -> Dict[str, float]:
    """One training step per call: each model with its own loss and
    optimizer (ours and mmpretrain's from their configs, SGD for the
    networks of torchvision and timm)."""
    from mmpretrain.structures import DataSample
    labels = torch.arange(batch_size) % 1000
    images = random_images(batch_size, args)
    samples = [
        DataSample().set_gt_label(int(label)).to(args.device)
        for label in labels
    ]

    def classifier_step(model, optim_wrapper):

        def step():
            with optim_wrapper.optim_context(model), autocast(args):
                losses = model(images, samples, mode='loss')
            optim_wrapper.update_params(sum(losses.values()))
            return batch_size

        return step

    def network_step(network):
        optimizer = torch.optim.SGD(network.parameters(),
                                    lr=0.1,
                                    momentum=0.9,
                                    weight_decay=1e-4)
        targets = labels.to(args.device)

        def step():
            with autocast(args):
                loss = F.cross_entropy(network(images), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return batch_size

        return step

    cfg = load_our_config(args)
    ours = init_model(cfg, args.checkpoint, args.device).train()
    steps = {
        'mmpre_inception':
        classifier_step(ours, build_optim_wrapper(ours, cfg.optim_wrapper))
    }
    if args.compare:
        torch.manual_seed(0)
        for name, build in other_networks().items():
            if name == 'mmpretrain':
                # What its tools/train.py runs: its classifier and config.
                mm_cfg = Config.fromfile(mmpretrain_inception_config_path())
                model = to_format(mmpretrain_classifier(mm_cfg), args)
                model.train()
                steps[name] = classifier_step(
                    model, build_optim_wrapper(model, mm_cfg.optim_wrapper))
            else:
                steps[name] = network_step(to_format(build(), args).train())
    return {
        name: median_rate(step, args.warmup, args.runs, args.device)
        for name, step in steps.items()
    }


# --mode e2e -----------------------------------------------------------------
def e2e_loader_cfg(cfg: Config, args) -> Config:
    loader = cfg.test_dataloader
    if args.data_root:
        loader.dataset.data_root = args.data_root
    if args.max_images:
        loader.dataset.indices = args.max_images
    if args.batch_size:
        loader.batch_size = args.batch_size[0]
    check_config_runs_here(cfg)
    # Its own loaders, not the Runner's: resolve 'auto' as the Runner does.
    cfg.test_dataloader, resolved = resolve_auto_workers(
        'test_dataloader', loader)
    if resolved:
        print(resolved)
    return cfg


def e2e_rate(model: torch.nn.Module, batches: Callable[[], Iterable],
             test_step: Callable, args) -> float:
    """Images/s of whole passes over ``batches()``; the warm-up is
    ``--warmup`` batches."""
    with torch.inference_mode():
        for index, batch in enumerate(batches()):
            if index >= args.warmup:
                break
            test_step(batch)

        def one_pass():
            count = 0
            for batch in batches():
                count += test_step(batch)
            return count

        return median_rate(one_pass, 0, args.runs, args.device)


def opencv_e2e(model, cfg: Config, args, scope: str) -> float:
    with DefaultScope.overwrite_default_scope(scope):
        loader = Runner.build_dataloader(cfg.test_dataloader)

    def test_step(batch):
        with autocast(args):
            model.test_step(batch)
        return len(batch['data_samples'])

    return e2e_rate(model, lambda: loader, test_step, args)


def torchvision_e2e(model, cfg: Config, args) -> float:
    dataset_cfg = cfg.test_dataloader.dataset
    root = dataset_cfg.data_root
    dataset = EncodedImages(osp.join(root, dataset_cfg.ann_file),
                            osp.join(root, dataset_cfg.data_prefix))
    if args.max_images:
        dataset.samples = dataset.samples[:args.max_images]
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=cfg.test_dataloader.batch_size,
        num_workers=cfg.test_dataloader.num_workers,
        collate_fn=collate_encoded)
    preprocessor = model.data_preprocessor
    mean = preprocessor.mean.to(args.device)
    std = preprocessor.std.to(args.device)
    memory_format = torch.channels_last \
        if args.memory_format == 'channels_last' else torch.contiguous_format

    def test_step(batch):
        encoded, _ = batch
        images = decode_batch(encoded, args.device)  # RGB
        inputs = ((images.float() - mean) /
                  std).contiguous(memory_format=memory_format)
        with autocast(args):
            model(inputs, mode='tensor').softmax(1).argmax(1)
        return len(encoded)

    return e2e_rate(model, lambda: loader, test_step, args)


def load_mmpretrain_weights(model: torch.nn.Module, path: str) -> None:
    """Load a checkpoint in mmpretrain's published layout, read safely;
    its auxiliary classifier, which the config leaves out, is ignored."""
    weights = {key: value for key, value in
               read_weights(path).items()
               if '.AuxLogits.' not in key}
    check_state_dict_fits(
        model.state_dict(), weights,
        f"checkpoint {path} (--compare needs mmpretrain's layout, "
        'backbone.fc.*)')
    model.load_state_dict(weights)


def e2e_rates(args) -> Dict[str, float]:
    cfg = e2e_loader_cfg(load_our_config(args), args)
    check_dataset_annotations(cfg.test_dataloader.dataset)
    ours = init_model(cfg, args.checkpoint, args.device)
    if args.fold_bn:
        with torch.no_grad():
            fuse_conv_bn(ours)
    if args.decoder == 'torchvision':
        return {'mmpre_inception': torchvision_e2e(ours, cfg, args)}
    rates = {'mmpre_inception': opencv_e2e(ours, cfg, args, 'mmpre_inception')}
    if args.compare:
        # mmpretrain as its tools/test.py runs: its pipeline, its model.
        mm_cfg = e2e_loader_cfg(
            Config.fromfile(mmpretrain_inception_config_path()), args)
        model = mmpretrain_classifier(mm_cfg)
        if args.checkpoint:
            load_mmpretrain_weights(model, args.checkpoint)
        model = model.to(args.device)
        model.eval()
        rates['mmpretrain'] = opencv_e2e(model, mm_cfg, args, 'mmpretrain')
    return rates


def peak_memory(device: str) -> str:
    if device.startswith('cuda'):
        return f'{torch.cuda.max_memory_allocated() / 2**20:.0f} MiB (CUDA)'
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return f'{kib / 2**10:.0f} MiB (process RSS)'


def print_rates(label: str, rates: Dict[str, float]) -> None:
    ours = rates['mmpre_inception']
    for name, rate in rates.items():
        ratio = '' if name == 'mmpre_inception' else \
            f'  (mmpre_inception is {ours / rate:.2f}x)'
        print(f'{label}  {name:16s} {rate:9.1f} img/s{ratio}')


def describe(args) -> str:
    device = torch.cuda.get_device_name(args.device) \
        if args.device.startswith('cuda') else \
        f'CPU, {torch.get_num_threads()} threads'
    options = [args.mode, args.precision, args.memory_format]
    if args.fold_bn and args.mode != 'train':
        options.append('folded BN')
    if args.cudnn_benchmark:
        options.append('cudnn.benchmark')
    if args.mode == 'e2e':
        options.append(f'{args.decoder} decoding')
    else:
        options.append(f'{args.shape}x{args.shape}')
    return (f'{device}; torch {torch.__version__}; {", ".join(options)}; '
            f'median of {args.runs} runs after {args.warmup} warm-up')


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    torch.manual_seed(0)
    print(describe(args))
    try:
        if args.mode == 'e2e':
            print_rates('e2e', e2e_rates(args))
        else:
            models: Optional[Dict[str, torch.nn.Module]] = None
            for batch_size in args.batch_size or [8]:
                if args.mode == 'train':
                    rates = train_rates(args, batch_size)
                else:
                    models = models or inference_models(args)
                    rates = model_rates(args, batch_size, models)
                print_rates(f'batch {batch_size:4d}', rates)
    except (AnnotationError, CheckpointError, ConfigError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    print(f'peak memory: {peak_memory(args.device)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
