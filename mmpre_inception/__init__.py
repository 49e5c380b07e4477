"""Inception V3 for the mmengine / mmcv / mmpretrain ecosystem.

Importing the package changes nothing in the process: no warnings filter,
no torch allow-list, no file backend. Our modules are registered when a
config imports them (our configs name their types by import), through
``custom_imports``, or with :func:`register_all_modules`.
"""
from .version import __version__


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register every module of mmpre_inception (and, through the parent
    registries, mmpretrain's) in the registries, as mmpretrain's function
    of the same name does.

    Args:
        init_default_scope (bool): Also make ``mmpre_inception`` the default
            scope, so that names in a config are looked up here first, then
            in mmpretrain and mmengine. Defaults to True.

    Example:
        >>> from mmpre_inception import register_all_modules
        >>> register_all_modules()
    """
    # Imported here, not at package import: registering is the whole
    # point of this function, and a plain import stays free of it.
    import mmpre_inception.datasets  # noqa: F401
    import mmpre_inception.engine  # noqa: F401
    import mmpre_inception.evaluation  # noqa: F401
    import mmpre_inception.models  # noqa: F401
    import datetime

    from mmengine.registry import DefaultScope
    from mmpretrain.utils import register_all_modules as register_mmpretrain
    register_mmpretrain(init_default_scope=False)
    current = DefaultScope.get_current_instance()
    if init_default_scope and (current is None
                               or current.scope_name != 'mmpre_inception'):
        # Instance names must be unique; the newest instance is current.
        DefaultScope.get_instance(
            f'mmpre_inception-{datetime.datetime.now()}',
            scope_name='mmpre_inception')


__all__ = ['__version__', 'register_all_modules']
