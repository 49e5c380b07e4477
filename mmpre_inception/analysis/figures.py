"""Pictures for the analysis tools: figures of an exact pixel size, saved
as PNG without pyplot.

The tools draw on a ``matplotlib.figure.Figure`` with the Agg canvas
instead of ``pyplot``: no display or backend is needed, nothing global
is shared between the figures of one process (the tests call the tools
in-process), and saving without ``bbox_inches='tight'`` keeps the size
asked for and avoids the ``adjust_bbox()`` error that breaks mmpretrain's
``browse_dataset.py`` with the installed matplotlib.
"""
import os
import os.path as osp
import re
from typing import Tuple, Union

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from mmpre_inception.errors import ConfigError

DPI = 100
#: The widest or tallest picture a tool draws (200 M pixels at most).
MAX_PIXELS_PER_SIDE = 16384


def parse_size(size: str) -> Tuple[int, int]:
    """``'1200x800'`` -> ``(1200, 800)``.

    Args:
        size (str): Width and height in pixels, ``WxH``.

    Returns:
        tuple: ``(width, height)``.

    Raises:
        ConfigError: Not of the form ``WxH`` with sides from 1 to
            :data:`MAX_PIXELS_PER_SIDE` (a size from ``--rescale-factor``
            or ``--columns`` included).
    """
    match = re.fullmatch(r'(\d+)[x*](\d+)', size)
    if not match or not all(0 < int(side) <= MAX_PIXELS_PER_SIDE
                            for side in match.groups()):
        raise ConfigError(
            f'--size {size}: give width x height in pixels, from 1 to '
            f'{MAX_PIXELS_PER_SIDE} each, e.g. 1200x800 (or fewer images, '
            'or a smaller --rescale-factor)')
    return int(match[1]), int(match[2])


def new_figure(size: str) -> Figure:
    """A figure of ``size`` pixels (``'WxH'``) with an Agg canvas.

    Example:
        >>> fig = new_figure('640x480')
        >>> ax = fig.add_subplot()
        >>> save_png(fig, 'plot.png')  # 640 x 480 pixels
    """
    width, height = parse_size(size)
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def save_png(picture: Union[Figure, np.ndarray], path: str) -> None:
    """Write a figure (at its own size) or an RGB uint8 array (pixel for
    pixel) to ``path`` as PNG, atomically: a half-written picture never
    replaces a good one."""
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    partial = osp.join(directory, f'.{osp.basename(path)}.partial')
    if isinstance(picture, Figure):
        picture.savefig(partial, dpi=DPI, format='png')
    else:
        Image.fromarray(picture).save(partial, format='PNG')
    os.replace(partial, path)
