"""Evaluate a checkpoint, as mmpretrain's ``tools/test.py`` does.

Takes checkpoints in our layout and in mmpretrain's published Inception V3
layout (``backbone.fc.*``): the model maps the keys, and checks that the
weights fit, when the Runner loads ``load_from``. Each option sets a key of
the config (saved in the work dir); everything else is the config's: e.g.
BatchNorm folding is its ``default_hooks.fold_batchnorm``.

Example:
    python tools/test.py configs/inception_v3_8xb32_in1k.py CKPT \
        --cfg-options test_dataloader.dataset.data_root=/data/imagenet
    bash tools/dist_test.sh CONFIG CKPT 8
    # 144 crops per image (GoogLeNet's protocol), softmax averaged
    python tools/test.py configs/multi_crop/inception_v3_144crop_in1k.py \
        CKPT --tta
    # an ensemble: each checkpoint with its own config, softmax averaged
    python tools/test.py configs/inception_v3_8xb32_in1k.py A.pth \
        --ensemble configs/tensorflow/inception_v3_keras_in1k.py B.pth
"""
import argparse
import copy
import json
import os
import os.path as osp
import sys

from mmengine.config import DictAction


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Evaluate a classifier')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where logs and metrics go')
    parser.add_argument(
        '--out',
        help='write every prediction here (a .pkl file), or with '
        '--out-item metrics the metrics (JSON, any name); checked before '
        'the run')
    parser.add_argument(
        '--out-item',
        choices=['metrics', 'pred'],
        help='what --out holds: "pred" (default) dumps every sample\'s '
        'prediction, "metrics" the evaluation results')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. '
        'test_dataloader.dataset.data_root=DIR')
    parser.add_argument(
        '--show-dir', help='save images with their predictions here')
    parser.add_argument(
        '--show', action='store_true', help='show predictions in a window')
    parser.add_argument(
        '--interval', type=int, default=1, help='visualize every N images')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='--show wait in seconds')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='autocast inference: float16 on a GPU, bfloat16 on a CPU')
    parser.add_argument(
        '--nchw',
        action='store_true',
        help='keep the NCHW memory format (default: channels-last, which '
        'CPUs and GPUs run faster, same predictions)')
    parser.add_argument(
        '--no-fold-bn',
        action='store_true',
        help='evaluate without folding BatchNorm into the convolutions '
        '(removes default_hooks.fold_batchnorm; folding is faster, and '
        'the logits agree within float rounding)')
    parser.add_argument(
        '--tta',
        action='store_true',
        help="test-time augmentation, as mmpretrain's --tta: the config's "
        'tta_pipeline views of each image (without one, the test pipeline '
        'and its mirror image) scored by its tta_model (without one, the '
        'mean of the softmax); configs/multi_crop/ hold 10, 12 and 144 '
        'crops')
    parser.add_argument(
        '--ensemble',
        nargs='+',
        metavar='CONFIG CKPT',
        help='more ensemble members after config and checkpoint: pairs of '
        'a config and a checkpoint, each run with its own config '
        '(preprocessing, and --tta views) on the same images; the scores '
        "are the mean of the members' softmax, and --out and the metrics "
        'are the ensemble\'s')
    parser.add_argument(
        '--skip-unreadable',
        action='store_true',
        help='skip (and log) unreadable images instead of stopping; the '
        'summary says how many samples were scored')
    parser.add_argument(
        '--no-pin-memory',
        action='store_true',
        help='do not pin memory in the data loader')
    parser.add_argument('--launcher',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none',
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    # Launchers that pass --local-rank instead of setting LOCAL_RANK.
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


if __name__ == '__main__':
    # --help and usage errors answer before the imports below, which take
    # seconds (torch, mmpretrain); main() parses the arguments again.
    parse_args()

# The imports that take seconds, after the early parse above.
from mmpre_inception.utils import silence_known_warnings  # noqa: E402

silence_known_warnings()

import mmengine  # noqa: E402
from mmengine.dist import is_main_process  # noqa: E402
from mmengine.evaluator import DumpResults  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmpre_inception.checkpoint import (  # noqa: E402
    CheckpointError, checkpoint_errors_named)
from mmpre_inception.datasets import (  # noqa: E402
    AnnotationError, UnreadableImageError, check_config_annotations)
from mmpre_inception.engine import (  # noqa: E402
    enable_skip_unreadable, name_stalled_ranks)
from mmpre_inception.evaluation import (  # noqa: E402
    CollectScores, average_scores, compute_locally)
from mmpre_inception.registry import METRICS, RUNNERS  # noqa: E402
from mmpre_inception.utils import (  # noqa: E402
    ConfigError, check_config_runs_here, default_work_dir,
    init_cpu_distributed, load_config, one_line_message,
    shutdown_distributed)


def check_out_path(path: str, out_item: str) -> None:
    """Refuse an ``--out`` that could not be written, before the run (a
    failure after it would lose every result)."""
    if out_item in (None, 'pred') and not path.endswith(('.pkl',
                                                         '.pickle')):
        raise ConfigError(
            f'--out {path}: predictions are written as a pickle; give a '
            '.pkl path, or add --out-item metrics to write the metrics as '
            'JSON')
    if osp.isdir(path):
        raise ConfigError(f'--out {path}: is a directory; give a file path')
    folder = osp.dirname(osp.abspath(path))
    existing = folder
    while not osp.exists(existing):
        existing = osp.dirname(existing)
    if not osp.isdir(existing) or not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(
            f'--out {path}: cannot write in {existing}; choose a writable '
            'folder')


def use_test_time_augmentation(cfg) -> None:
    """Wrap ``model`` in ``tta_model`` and test on ``tta_pipeline``, as
    mmpretrain's ``tools/test.py --tta`` does, with the same defaults where
    the config has neither: the mirror image, and mean softmax scores."""
    # Names, not classes: the work dir's copy of the config is written as
    # Python source, which can name only the classes its file imports.
    if 'tta_model' not in cfg:
        cfg.tta_model = dict(type='mmpre_inception.MeanSoftmaxTTA')
    if 'tta_pipeline' not in cfg:
        pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
        pipeline[-1] = dict(type='TestTimeAug', transforms=[
            [dict(type='RandomFlip', prob=0.0),
             dict(type='RandomFlip', prob=1.0)], [pipeline[-1]]])
        cfg.tta_pipeline = pipeline
    # Copied, not unpacked: unpacking a ConfigDict imports the classes
    # it names, and the work dir's config could no longer name them.
    model = copy.deepcopy(cfg.tta_model)
    model.module = cfg.model
    cfg.model = model
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline


def merge_args(cfg, args):
    """Apply the command-line options to the config; each one sets a key a
    user can see in the config saved in the work dir."""
    if not osp.isfile(args.checkpoint):
        raise ConfigError(f'checkpoint file not found: {args.checkpoint}')
    if args.out:
        check_out_path(args.out, args.out_item)
    cfg.launcher = args.launcher
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or default_work_dir(
        args.config)
    # As mmpretrain's tools/test.py: the Runner loads it, and the saved
    # config records what was evaluated.
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        visualization = cfg.default_hooks.visualization
        visualization.enable = True
        visualization.show = args.show
        visualization.wait_time = args.wait_time
        visualization.interval = args.interval
        visualization.out_dir = args.show_dir
    if args.no_pin_memory:
        cfg.test_dataloader['pin_memory'] = False
    if args.amp:
        # mmengine's test loop autocasts with this flag: float16 on CUDA,
        # bfloat16 on CPU.
        cfg.test_cfg = dict(cfg.get('test_cfg') or {}, fp16=True)
    if args.nchw:
        cfg.model.channels_last = False
    if args.no_fold_bn:
        # mmengine accepts None only for its own default hook names.
        cfg.get('default_hooks', {}).pop('fold_batchnorm', None)
    if args.tta:
        use_test_time_augmentation(cfg)
    if args.skip_unreadable:
        enable_skip_unreadable(cfg, ('test_dataloader', ))
    check_config_runs_here(cfg)
    return cfg


def evaluate(cfg, args, extra_metrics=()) -> dict:
    """Run the test loop; the Runner (and its DDP wrapper) is released on
    return."""
    # As mmpretrain's tools: the config's runner_type, if it names one.
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else \
        Runner.from_cfg(cfg)
    runner.test_evaluator.metrics.extend(extra_metrics)
    if args.out and args.out_item in (None, 'pred') and not args.ensemble:
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))
    with checkpoint_errors_named(cfg.load_from):  # the Runner loads it
        metrics = runner.test()
    if args.skip_unreadable:
        hub = runner.message_hub
        metrics['scored'] = hub.get_info('test/scored')
        metrics['unreadable'] = hub.get_info('test/unreadable')
    return metrics


def ensemble_members(args) -> list:
    """``(config, checkpoint)`` of every member, the first one's from the
    positional arguments."""
    extra = args.ensemble or []
    if len(extra) % 2:
        raise ConfigError(
            f'--ensemble {" ".join(extra)}: give pairs of a config and a '
            f'checkpoint; {extra[-1]} has no partner')
    return [(args.config, args.checkpoint)] + list(zip(extra[::2],
                                                      extra[1::2]))


def member_configs(args) -> list:
    """The merged config of every ensemble member, each in its own
    ``member<N>`` folder of the work dir."""
    members = ensemble_members(args)
    if len(members) == 1:
        return [merge_args(load_config(args.config, args.cfg_options), args)]
    work_dir = args.work_dir or default_work_dir(args.config) + '_ensemble'
    configs = []
    for number, (config, checkpoint) in enumerate(members, start=1):
        member_args = copy.copy(args)
        member_args.config, member_args.checkpoint = config, checkpoint
        member_args.work_dir = osp.join(work_dir, f'member{number}')
        cfg = merge_args(load_config(config, args.cfg_options), member_args)
        # Runners of one process share a logger by experiment name.
        cfg.experiment_name = f'member{number}_' + osp.splitext(
            osp.basename(config))[0]
        configs.append(cfg)
    return configs


def evaluate_ensemble(configs, args) -> dict:
    """Each member's test run, then the metrics of the first member's
    ``test_evaluator`` on the mean of their softmax; ``--out`` holds the
    ensemble's predictions."""
    names = [cfg.filename or str(number) for number, cfg in
             enumerate(configs, start=1)]
    collected, member_metrics = [], []
    for cfg in configs:
        collector = CollectScores()
        member_metrics.append(evaluate(cfg, args, [collector]))
        collected.append(collector.collected)
    if not is_main_process():
        return {}
    try:
        samples = average_scores(collected, names)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    evaluators = configs[0].test_evaluator
    metrics = {}
    for evaluator in evaluators if isinstance(evaluators, list) else [
            evaluators]:
        metrics.update(compute_locally(METRICS.build(evaluator), samples))
    if args.out and args.out_item in (None, 'pred'):
        mmengine.dump(samples, args.out)
    for number, (name, values) in enumerate(zip(names, member_metrics),
                                            start=1):
        print(f'Member {number} {name}: ' + '  '.join(
            f'{key}: {value:.2f}' for key, value in values.items()
            if isinstance(value, float)))
    return metrics


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        configs = member_configs(args)
        for cfg in configs:
            check_config_annotations(cfg, ('test_dataloader', ),
                                     missing_images_ok=args.skip_unreadable)
    except (ConfigError, AnnotationError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    cfg = configs[0]
    timeout_s = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('timeout')
    init_cpu_distributed(args.launcher, timeout_s)
    try:
        if len(configs) > 1:
            metrics = evaluate_ensemble(configs, args)
        else:
            metrics = evaluate(cfg, args)
        reporting = is_main_process()  # every rank is "main" after shutdown
    except ConfigError as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    except (CheckpointError, UnreadableImageError) as error:
        print(f'error: {one_line_message(error)}', file=sys.stderr)
        return 1
    except RuntimeError as error:
        stalled = name_stalled_ranks(error, timeout_s)
        if stalled is None:
            raise
        print(f'error: {stalled}', file=sys.stderr)
        return 1
    finally:
        shutdown_distributed()
    if not reporting:
        return 0
    if args.out and args.out_item == 'metrics':
        mmengine.mkdir_or_exist(osp.dirname(osp.abspath(args.out)))
        with open(args.out, 'w') as f:
            json.dump(metrics, f, indent=2)
    summary = '  '.join(f'{key}: {value:.2f}' for key, value in
                        metrics.items() if isinstance(value, float))
    if args.skip_unreadable:
        summary += (f'  (scored {metrics["scored"]} samples, skipped '
                    f'{metrics["unreadable"]} unreadable)')
    evaluated = args.checkpoint if len(configs) == 1 else \
        f'an ensemble of {len(configs)}'
    print(f'Evaluated {evaluated}: {summary}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
