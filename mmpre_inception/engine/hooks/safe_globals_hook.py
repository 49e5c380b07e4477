"""Let the Runner's own loads read the checkpoints mmengine writes, safely."""
from typing import Optional

import torch
from mmengine.hooks import Hook

from mmpre_inception.checkpoint import mmengine_checkpoint_globals
from mmpre_inception.registry import HOOKS


@HOOKS.register_module()
class MMEngineSafeGlobalsHook(Hook):
    """Lets the Runner's own loads (``load_from``, ``resume``) read the
    checkpoints mmengine writes with ``torch.load(weights_only=True)``.

    torch refuses the message-hub types a Runner checkpoint carries, so
    ``--resume`` would fail; unpickling without restriction would run any
    code a file carries. From ``before_run`` (which mmengine calls before
    it loads) to ``after_run`` the allow-list of
    :func:`~mmpre_inception.checkpoint.mmengine_checkpoint_globals` is
    added to torch's; afterwards torch's list is as it was.

    Example:
        >>> default_hooks = dict(safe_globals=dict(
        ...     type=MMEngineSafeGlobalsHook))
    """
    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._saved: Optional[list] = None

    def before_run(self, runner) -> None:
        self._saved = torch.serialization.get_safe_globals()
        torch.serialization.add_safe_globals(mmengine_checkpoint_globals())

    def after_run(self, runner) -> None:
        if self._saved is not None:
            torch.serialization.clear_safe_globals()
            torch.serialization.add_safe_globals(self._saved)
            self._saved = None
