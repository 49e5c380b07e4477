"""Parameter groups merged by their options, so that a multi-tensor
optimizer steps every parameter with a handful of calls."""
import logging
from typing import Dict, List

import torch
from mmengine.logging import MMLogger, print_log
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper

from mmpre_inception.registry import OPTIM_WRAPPER_CONSTRUCTORS


def _options_key(group: dict) -> tuple:
    # repr: options may be lists (betas given in a config) or tensors.
    return tuple(sorted((key, repr(value)) for key, value in group.items()
                        if key != 'params'))


def merge_param_groups(groups: List[dict]) -> List[dict]:
    """One group per distinct set of options, in order of first
    appearance, each with its parameters in their original order.

    Example:
        >>> import torch
        >>> a, b, c = (torch.nn.Parameter(torch.zeros(1)) for _ in range(3))
        >>> merged = merge_param_groups([
        ...     dict(params=[a], weight_decay=0.1),
        ...     dict(params=[b], weight_decay=0.0),
        ...     dict(params=[c], weight_decay=0.1)])
        >>> [(len(g['params']), g['weight_decay']) for g in merged]
        [(2, 0.1), (1, 0.0)]
    """
    merged: Dict[tuple, dict] = {}
    for group in groups:
        key = _options_key(group)
        if key not in merged:
            merged[key] = dict(group, params=[])
        merged[key]['params'].extend(group['params'])
    return list(merged.values())


class _UnmergedStateLoader:
    """Loads an optimizer state saved with one group per parameter (what
    mmengine's constructor builds from ``paramwise_cfg``, before the
    groups were merged) into the merged groups, so that checkpoints saved
    before the change resume exactly."""

    def __init__(self, unmerged: List[dict]) -> None:
        self.sizes = [len(group['params']) for group in unmerged]
        self.order = [param for group in unmerged
                      for param in group['params']]

    def __call__(self, optimizer: torch.optim.Optimizer, state_dict: dict):
        saved = state_dict['param_groups']
        if len(saved) == len(optimizer.param_groups) or \
                [len(group['params']) for group in saved] != self.sizes:
            return None  # the merged layout, or another one torch refuses
        position = {id(param): index for index, param in enumerate(
            p for group in optimizer.param_groups for p in group['params'])}
        saved_index = [index for group in saved for index in group['params']]
        new_index = {old: position[id(param)]
                     for old, param in zip(saved_index, self.order)}
        groups = []
        for group in optimizer.param_groups:
            members = {position[id(param)] for param in group['params']}
            first = next(old_group for old_group in saved
                         if new_index[old_group['params'][0]] in members)
            groups.append(dict(first, params=sorted(members)))
        return dict(state={new_index[old]: value for old, value in
                           state_dict['state'].items()},
                    param_groups=groups)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class MergedGroupsOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """mmengine's ``DefaultOptimWrapperConstructor`` whose parameter groups
    are merged when their options are equal.

    With a ``paramwise_cfg``, mmengine builds one group per parameter (292
    for Inception V3 with its auxiliary classifier), and an optimizer runs
    its multi-tensor step once per group: the paper's
    ``norm_decay_mult=0, bias_decay_mult=0`` needs two groups (with and
    without weight decay), which is what this gives. Learning-rate
    schedulers and ``auto_scale_lr`` act on the merged groups as on the
    others; the per-parameter ``paramwise_options`` log lines become one
    line per group. An optimizer state saved with the unmerged groups
    loads into the merged ones.

    Example:
        >>> optim_wrapper = dict(
        ...     constructor=MergedGroupsOptimWrapperConstructor,
        ...     optimizer=dict(type='SGD', lr=0.1, weight_decay=1e-4),
        ...     paramwise_cfg=dict(norm_decay_mult=0.0))
    """

    def __call__(self, model: torch.nn.Module) -> OptimWrapper:
        optim_wrapper = super().__call__(model)
        unmerged = getattr(self, '_unmerged', None)
        if unmerged is not None:
            optim_wrapper.optimizer.register_load_state_dict_pre_hook(
                _UnmergedStateLoader(unmerged))
        return optim_wrapper

    def add_params(self, params: List[dict], module: torch.nn.Module,
                   prefix: str = '', **kwargs) -> None:
        if prefix:  # mmengine's recursion into the children
            super().add_params(params, module, prefix, **kwargs)
            return
        logger = MMLogger.get_current_instance()
        one_per_parameter = _DropRecords('paramwise_options')
        logger.addFilter(one_per_parameter)
        try:
            unmerged: List[dict] = []
            super().add_params(unmerged, module, prefix, **kwargs)
        finally:
            logger.removeFilter(one_per_parameter)
        self._unmerged = unmerged
        merged = merge_param_groups(unmerged)
        params.extend(merged)
        for group in merged:
            options = ', '.join(f'{key}={value}' for key, value in
                                group.items() if key != 'params')
            print_log(f'parameter group of {len(group["params"])} '
                      f'parameters: {options or "the optimizer defaults"}',
                      logger='current')


class _DropRecords(logging.Filter):

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.prefix)
