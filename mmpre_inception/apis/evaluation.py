"""Evaluation runs: one checkpoint, test-time augmentation and ensembles,
as ``tools/test.py`` runs them."""
import copy
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config
from mmengine.dist import is_main_process
from mmengine.runner import Runner

from mmpre_inception.checkpoint import read_checkpoint
from mmpre_inception.datasets import check_config_annotations
from mmpre_inception.engine import enable_skip_unreadable
from mmpre_inception.evaluation import (AtomicDumpResults, CollectScores,
                                        average_scores, compute_locally,
                                        dump_results, write_json)
from mmpre_inception.registry import METRICS, RUNNERS
from mmpre_inception.utils import ConfigError, check_config_runs_here

from .device_input import use_device_decoding


def check_out_path(path: str, out_item: Optional[str] = None) -> None:
    """Refuse an ``--out`` that could not be written, before the run (a
    failure after it would lose every result).

    Raises:
        ConfigError: Wrong suffix for predictions, a folder, or a place
            this process cannot write.
    """
    if out_item in (None, 'pred') and not path.endswith(('.pkl',
                                                         '.pickle')):
        raise ConfigError(
            f'--out {path}: predictions are written as a pickle; give a '
            '.pkl path, or add --out-item metrics to write the metrics as '
            'JSON')
    check_output_file(path, '--out')


def check_output_file(path: str, option: str) -> None:
    """Refuse an output file path that is a folder or cannot be written.

    Raises:
        ConfigError: Naming ``option`` and the path.
    """
    if osp.isdir(path):
        raise ConfigError(f'{option} {path}: is a directory; give a file '
                          'path')
    check_writable(osp.dirname(osp.abspath(path)), f'{option} {path}')


def check_writable(folder: str, option: str) -> None:
    """Refuse a folder (or the nearest existing folder above it) that this
    process cannot create files in.

    Raises:
        ConfigError: Naming ``option`` and the folder.
    """
    existing = osp.abspath(folder)
    while not osp.exists(existing):
        existing = osp.dirname(existing)
    if not osp.isdir(existing) or not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f'{option}: cannot write in {existing}; choose a '
                          'writable folder')


def use_test_time_augmentation(cfg: Config) -> None:
    """Wrap ``model`` in ``tta_model`` and test on ``tta_pipeline``, as
    mmpretrain's ``tools/test.py --tta`` does, with the same defaults where
    the config has neither: the mirror image, and mean softmax scores.

    Args:
        cfg (Config): Changed in place; the work dir's copy shows it.
    """
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


def prepare_test_config(cfg: Config, tta: bool = False,
                        skip_unreadable: bool = False,
                        gpu_decode: bool = False,
                        read_checkpoint_now: bool = False) -> Config:
    """The config of a test run: ``--tta``, ``--skip-unreadable`` and
    ``--gpu-decode`` applied, then checked against this machine and its
    annotation files (and with ``read_checkpoint_now`` its ``load_from``
    checkpoint, read; the Runner checks the fit).

    Raises:
        ConfigError, AnnotationError, CheckpointError: Naming the key or
            file at fault.
    """
    if gpu_decode and tta:
        raise ConfigError('--gpu-decode with --tta: the test-time views are '
                          'made on the CPU; give one of them')
    if tta:
        use_test_time_augmentation(cfg)
    if gpu_decode:
        use_device_decoding(cfg, ['test_dataloader'])
    if skip_unreadable:
        enable_skip_unreadable(cfg, ('test_dataloader', ))
    check_config_runs_here(cfg)
    check_writable(cfg.work_dir, f'--work-dir {cfg.work_dir}')
    check_config_annotations(cfg, ('test_dataloader', ),
                             missing_images_ok=skip_unreadable)
    if read_checkpoint_now and cfg.get('load_from'):
        # An ensemble's members: a bad file is named before the first
        # members run (their work would be lost); the Runner reads it
        # again and checks that it fits the model.
        read_checkpoint(cfg.load_from)
    return cfg


def build_runner(cfg: Config) -> Runner:
    """The config's ``runner_type`` if it names one, else mmengine's
    Runner, as mmpretrain's tools build them."""
    return RUNNERS.build(cfg) if 'runner_type' in cfg else \
        Runner.from_cfg(cfg)


def evaluate(cfg: Config, out: Optional[str] = None,
             extra_metrics: Sequence = ()) -> Dict[str, float]:
    """Run the config's test loop on its ``load_from`` checkpoint.

    Args:
        cfg (Config): A config from :func:`prepare_test_config`.
        out (str, optional): Write every prediction here (mmengine's
            ``DumpResults`` layout), atomically.
        extra_metrics (Sequence): More metric objects to run.

    Returns:
        dict: The metrics; with ``--skip-unreadable`` also ``scored`` and
        ``unreadable`` sample counts.
    """
    runner = build_runner(cfg)
    runner.test_evaluator.metrics.extend(extra_metrics)
    if out:
        runner.test_evaluator.metrics.append(
            AtomicDumpResults(out_file_path=out))
    metrics = runner.test()
    hub = runner.message_hub
    if hub.get_info('test/unreadable') is not None:
        metrics['scored'] = hub.get_info('test/scored')
        metrics['unreadable'] = hub.get_info('test/unreadable')
    return metrics


def evaluate_ensemble(configs: Sequence[Config], out: Optional[str] = None
                      ) -> Tuple[Dict[str, float], List[Dict[str, float]]]:
    """Each member's test run, then the metrics of the first member's
    ``test_evaluator`` on the mean of their softmax.

    Args:
        configs (Sequence[Config]): One per member, each with its own
            ``load_from``, preprocessing and ``work_dir``.
        out (str, optional): Write the ensemble's predictions here.

    Returns:
        tuple[dict, list[dict]]: The ensemble's metrics (empty on ranks
        other than the first) and each member's own.

    Raises:
        ConfigError: The members scored different images or classes.
    """
    names = [cfg.filename or str(number) for number, cfg in
             enumerate(configs, start=1)]
    collected, member_metrics = [], []
    for cfg in configs:
        collector = CollectScores()
        member_metrics.append(evaluate(cfg, extra_metrics=[collector]))
        collected.append(collector.collected)
    if not is_main_process():
        return {}, member_metrics
    try:
        samples = average_scores(collected, names)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    evaluators = configs[0].test_evaluator
    metrics = {}
    for evaluator in evaluators if isinstance(evaluators, list) else [
            evaluators]:
        metrics.update(compute_locally(METRICS.build(evaluator), samples))
    if out:
        dump_results(samples, out)
    return metrics, member_metrics


def ensemble_pairs(config: str, checkpoint: str,
                   more: Sequence[str]) -> List[Tuple[str, str]]:
    """``(config, checkpoint)`` of every member of ``--ensemble``.

    Raises:
        ConfigError: An odd number of ``more`` paths.
    """
    if len(more) % 2:
        raise ConfigError(
            f'--ensemble {" ".join(more)}: give pairs of a config and a '
            f'checkpoint; {more[-1]} has no partner')
    return [(config, checkpoint)] + list(zip(more[::2], more[1::2]))


def write_metrics(metrics: Dict[str, float], path: str) -> None:
    """``--out-item metrics``: the metrics as JSON, atomically."""
    write_json(metrics, path)


def summary(metrics: Dict[str, float]) -> str:
    """``accuracy/top1: 77.57  accuracy/top5: 93.58``, with the counts of
    ``--skip-unreadable`` when it ran."""
    line = '  '.join(f'{key}: {value:.2f}' for key, value in
                     metrics.items() if isinstance(value, float))
    if 'unreadable' in metrics:
        line += (f'  (scored {metrics["scored"]} samples, skipped '
                 f'{metrics["unreadable"]} unreadable)')
    return line
