"""mmengine's Runner with one checkpoint path, a console that shows
progress and results, and data-loader workers chosen from the machine."""
import logging
import re
import warnings
from typing import List, Optional

import torch
from mmengine.config import Config
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from mmpre_inception.checkpoint import (CheckpointError, fit_checkpoint,
                                        read_checkpoint)
from mmpre_inception.registry import RUNNERS
from mmpre_inception.utils import (latest_checkpoint, resolve_auto_workers,
                                   restart_count)

from .private_apis import (give_a_name_of_its_own, is_resuming,
                           is_training, load_checkpoint_to_model)

# Multi-line listings mmengine logs at the start of every run, and one
# line per parameter group option: hundreds of lines before any result.
# They stay in the log file in the work dir.
_LISTINGS = ('Config:', 'Hooks will be executed', 'paramwise_options',
             '\n' + '-' * 60 + '\nSystem environment',
             # mmengine's notices about its own internals, which its
             # CheckpointHook uses at every start; nothing a user can do.
             '"FileClient" will be deprecated',
             '"HardDiskBackend" is the alias')

#: What a resumed run's state needs (mmengine's ``Runner.resume``).
_TRAINING_STATE = ('message_hub', 'optimizer')


def _not_a_listing(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith(_LISTINGS)


def _hyperparameters(optimizer) -> List[dict]:
    """Each group's options, with the rate it started from (schedulers
    keep it as ``initial_lr`` and change ``lr``)."""
    groups = []
    for group in optimizer.param_groups:
        options = {key: value for key, value in group.items()
                   if key not in ('params', 'lr', 'initial_lr')
                   and isinstance(value, (int, float, tuple, bool))}
        options['lr'] = group.get('initial_lr', group['lr'])
        groups.append(options)
    return groups


def _scheduler_settings(schedulers) -> List[dict]:
    if isinstance(schedulers, dict):  # one list per optimizer
        schedulers = [s for group in schedulers.values() for s in group]
    return [{key: value for key, value in scheduler.state_dict().items()
             if isinstance(value, (int, float, bool)) and not key.startswith(
                 ('last_', '_', 'base_values')) and key not in (
                     'last_step', '_global_step')}
            for scheduler in schedulers or []]


def _differences(configured: List[dict], restored: List[dict],
                 what: str) -> List[str]:
    changed = {}  # ordered, and groups that differ alike are said once
    for mine, saved in zip(configured, restored):
        for key, value in mine.items():
            if key in saved and saved[key] != value:
                changed[f'{what}.{key}={value!r} (the run continues with '
                        f'{saved[key]!r})'] = None
    return list(changed)


def _saved_batch_size(meta: dict) -> Optional[int]:
    """``train_dataloader.batch_size`` of the run that saved a checkpoint,
    from the config text mmengine keeps in its ``meta['cfg']``."""
    match = re.search(r'^train_dataloader = dict\((?:\n    .*)*?'
                      r'\n    batch_size=(\d+),', meta.get('cfg') or '',
                      re.MULTILINE)
    return int(match.group(1)) if match else None


# The last config text formatted, keyed by its content.
_FORMATTED = {}


class _OnceFormattedConfig(Config):
    """mmengine's ``Config``, its ``pretty_text`` formatted once per
    content: mmengine's Runner formats its config four times as it starts
    (the log, the message hub and two dumps), each a yapf pass of about
    0.2 s on a 2-core CPU, most of a short evaluation's start-up."""

    @property
    def pretty_text(self) -> str:
        key = repr(self._cfg_dict.to_dict())
        if _FORMATTED.get('key') != key:
            _FORMATTED.update(key=key, text=Config.pretty_text.fget(self))
        return _FORMATTED['text']


def _one_list(schedulers):
    """mmengine's schedulers (or their saved states) as one list: it keeps
    one list per optimizer where there are several (a dict)."""
    if isinstance(schedulers, dict):
        return [s for group in schedulers.values() for s in group]
    return schedulers


@RUNNERS.register_module()
class ConsoleSummaryRunner(Runner):
    """mmengine's ``Runner`` with one checkpoint path and a console that
    leaves out the start-of-run listings (system environment, the whole
    config, the hook order); the log file keeps them all.

    Every checkpoint the Runner loads (``load_from``, ``resume``) is read
    by :func:`~mmpre_inception.checkpoint.read_checkpoint` (safely; a
    state dict, a trainer's checkpoint or ``.safetensors``), put in the
    model's key layout and checked to fit
    (:func:`~mmpre_inception.checkpoint.fit_checkpoint`) before any hook
    sees it, so a bad file is one line naming it, whichever hook would
    have read it first. On ``resume``, a value of the config that the
    checkpoint's optimizer or scheduler state replaces is named in one
    log line.

    A data loader's ``num_workers='auto'`` becomes
    :func:`~mmpre_inception.utils.auto_num_workers` on the machine that
    runs it (the rank's share of its CPUs, less one), so a config written
    for an 8-GPU node neither oversubscribes a 2-core machine nor starves
    a 64-core one. An integer is used as it is.

    Select it in a config with ``runner_type = ConsoleSummaryRunner``;
    mmengine's, mmpretrain's and our tools build ``runner_type`` when a
    config has it.
    """

    def __init__(self, *args, **kwargs):
        cfg = kwargs.get('cfg')
        if type(cfg) is Config:  # the Runner deep-copies it, class and all
            formatted_once = _OnceFormattedConfig.__new__(
                _OnceFormattedConfig)
            formatted_once.__dict__.update(cfg.__dict__)
            kwargs['cfg'] = formatted_once
        with warnings.catch_warnings():
            # A second Runner started in the same second of one process (a
            # script that evaluates twice) gets the first one's experiment
            # name, and mmengine's DefaultScope.get_instance warns that a
            # scope of that name exists (it hands that one back, of the same
            # default_scope: runner_type selects this Runner in our configs
            # only), before give_a_name_of_its_own can rename the run.
            warnings.filterwarnings(
                'ignore', r".*DefaultScope'> instance named of .* has been "
                r'created', UserWarning)
            super().__init__(*args, **kwargs)
        for name in ('train_dataloader', 'val_dataloader',
                     'test_dataloader'):
            attribute = f'_{name}'
            loader = getattr(self, attribute)
            if isinstance(loader, dict):
                setattr(self, attribute, self._resolve_workers(name, loader))

    def _resolve_workers(self, name: str, loader: dict) -> dict:
        loader, resolved = resolve_auto_workers(name, loader)
        if resolved is not None:
            self.logger.info(resolved)
        return loader

    def build_logger(self, *args, **kwargs):
        # mmengine builds the message hub and the visualizer after the
        # logger, under the same name: renaming here separates all three.
        give_a_name_of_its_own(self)
        logger = super().build_logger(*args, **kwargs)
        for handler in logger.handlers:
            if type(handler) is logging.StreamHandler:  # not the file's
                handler.addFilter(_not_a_listing)
        return logger

    def test(self) -> dict:
        """mmengine's ``test``, with the config's ``compile`` applied to
        ``test_step`` as mmengine applies it to ``train_step``."""
        self._compile_step('test_step')
        return super().test()

    def val(self) -> dict:
        """mmengine's ``val``, with ``compile`` applied to ``val_step``."""
        self._compile_step('val_step')
        return super().val()

    def _compile_step(self, name: str) -> None:
        # The semantics of mmengine's ``compile`` key (True or
        # torch.compile's keyword arguments), for the steps it leaves.
        options = self.cfg.get('compile')
        if not options or getattr(self, f'_compiled_{name}', False):
            return
        options = {} if options is True else dict(options)
        setattr(self.model, name,
                torch.compile(getattr(self.model, name), **options))
        setattr(self, f'_compiled_{name}', True)
        self.logger.info(f'{name} is compiled (the config\'s compile): the '
                         'first batches are slow while it compiles')

    def load_checkpoint(self,
                        filename: str,
                        map_location='cpu',
                        strict: bool = False,
                        revise_keys: Optional[list] = None) -> dict:
        """mmengine's ``load_checkpoint`` on a checkpoint that was read,
        laid out and checked first (see the class docstring)."""
        # Mapped (read_checkpoint) unless resuming: the optimizer keeps
        # the tensors a resume loads, which must not hold the file after
        # max_keep_ckpts deletes it.
        checkpoint = read_checkpoint(filename, map_location,
                                     mmap=not is_resuming(self))
        model = self.model.module if is_model_wrapper(self.model) \
            else self.model
        fit_checkpoint(self.model, checkpoint, filename)
        meta = checkpoint['meta']
        if meta['weights_from'] not in ('state_dict', ''):
            self.logger.info(f'{filename}: the weights are its '
                             f"{meta['weights_from']!r}")
        if meta['ddp_prefix_removed']:
            self.logger.info(f"{filename}: took the 'module.' prefix of a "
                             'model saved from DDP off every key')
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        checkpoint = load_checkpoint_to_model(model, checkpoint, strict,
                                              revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def load_or_resume(self) -> None:
        """mmengine's. In a run started again after a failure
        (:func:`~mmpre_inception.utils.restart_count`) whose config says
        ``restart_resumes``, from the newest complete checkpoint in the work
        dir, where there is one (what the first start resumed or loaded is
        older); the log says first what it goes on from."""
        restarts = restart_count()
        if restarts and is_training(self):
            newest = latest_checkpoint(self.work_dir) if self.cfg.get(
                'restart_resumes', False) else None
            if newest is not None:
                self._resume, self._load_from = True, newest
            if self._resume and self._load_from:
                outcome = f'resuming from {self._load_from}'
            elif not self.cfg.get('restart_resumes', False):
                outcome = 'restart_resumes is False: training starts over'
            else:
                outcome = (f'no complete checkpoint in {self.work_dir} yet: '
                           'training starts over')
            self.logger.warning(f'restart {restarts} of this run after a '
                                f'failure: {outcome}')
        super().load_or_resume()

    def resume(self, filename: str, *args, **kwargs) -> None:
        """mmengine's ``resume``, refusing a file without training state
        and naming what of the config the checkpoint's state replaces."""
        configured = self._configured_schedule()
        # Mapped: this check reads the weights and the optimizer's options;
        # load_checkpoint reads the tensors the run keeps.
        checkpoint = fit_checkpoint(self.model, read_checkpoint(filename),
                                    filename)
        missing = [key for key in _TRAINING_STATE if key not in checkpoint]
        if missing or 'epoch' not in checkpoint['meta']:
            raise CheckpointError(
                f'cannot resume from {filename}: it holds weights without '
                f'the training state (no {", ".join(missing) or "epoch"}); '
                'start a new run from its weights with --cfg-options '
                f'load_from={filename} instead of --resume')
        configured['saved_batch_size'] = _saved_batch_size(checkpoint['meta'])
        self._check_same_kind_of_training(checkpoint, filename)
        del checkpoint  # read again by load_checkpoint, on the device
        super().resume(filename, *args, **kwargs)
        self._name_overridden_settings(configured, filename)

    def _check_same_kind_of_training(self, checkpoint: dict,
                                     filename: str) -> None:
        """Refuse to resume where the checkpoint's optimizer or schedule is
        of another kind than the config's: torch and mmengine would load
        it into the wrong classes and fail later (SGD reading AdamW's
        state: ``KeyError: 'momentum'``) or, for schedulers, not at all.
        Changed values of the same kind are restored, and named, after
        loading (``_name_overridden_settings``)."""
        remedy = ('start a new run from its weights with --cfg-options '
                  f'load_from={filename} without --resume, or resume with '
                  'the settings it was trained with')
        optimizer = getattr(self.optim_wrapper, 'optimizer', None)
        saved_groups = (checkpoint.get('optimizer') or {}).get(
            'param_groups') or []
        if optimizer is not None and saved_groups:
            expected = set(optimizer.defaults)
            saved = set().union(*saved_groups) - {'params', 'initial_lr'}
            # A newer torch adds options (old checkpoints lack them, and
            # torch fills them in); another optimizer has options of its
            # own and lacks ours.
            foreign, lacking = saved - expected, expected - saved
            if foreign and lacking:
                raise CheckpointError(
                    f'cannot resume from {filename}: its optimizer state is '
                    "another optimizer's (options "
                    f"{', '.join(sorted(foreign))}; the config's "
                    f'{type(optimizer).__name__} has '
                    f"{', '.join(sorted(lacking))}): optim_wrapper.optimizer."
                    f'type changed; {remedy}')
        schedulers = _one_list(self.param_schedulers)
        saved_schedulers = _one_list(checkpoint.get('param_schedulers'))
        if schedulers and saved_schedulers is not None:
            ours = [set(s.state_dict()) for s in schedulers]
            theirs = [set(state) for state in saved_schedulers]
            if ours != theirs:
                raise CheckpointError(
                    f'cannot resume from {filename}: it holds the state of '
                    f'{len(theirs)} parameter scheduler(s) of another kind '
                    f'than the config\'s {len(ours)} '
                    f"({', '.join(type(s).__name__ for s in schedulers)}): "
                    f'param_scheduler changed; {remedy}')

    def _configured_schedule(self) -> dict:
        wrapper = self.optim_wrapper
        optimizer = getattr(wrapper, 'optimizer', None)
        loader = self.cfg.get('train_dataloader') or {}
        return dict(
            optimizer=_hyperparameters(optimizer) if optimizer else [],
            schedulers=_scheduler_settings(self.param_schedulers)
            if isinstance(self.param_schedulers, (list, dict)) else [],
            batch_size=loader.get('batch_size'))

    def _name_overridden_settings(self, configured: dict,
                                  filename: str) -> None:
        restored = self._configured_schedule()
        changed = _differences(configured['optimizer'],
                               restored['optimizer'], 'optim_wrapper.'
                               'optimizer')
        changed += _differences(configured['schedulers'],
                                restored['schedulers'], 'param_scheduler')
        saved = configured['saved_batch_size']
        if saved is not None and saved != configured['batch_size']:
            changed.append(f"train_dataloader.batch_size="
                           f"{configured['batch_size']} (the restored rate "
                           f'and schedule were set for {saved})')
        if changed:
            self.logger.warning(
                f'--resume {filename}: the checkpoint\'s optimizer and '
                'scheduler state override what the config now says: ' +
                '; '.join(changed) + '. To train with the new values, '
                f'start a new run from its weights: --cfg-options '
                f'load_from={filename} without --resume (docs/training.md)')
