"""The errors a user can cause, and the exit status of each: the one table
every tool follows (docs/troubleshooting.md lists the messages).

Standard library only: tools import it before parsing their arguments, and
every layer raises these.
"""
from typing import Dict, Optional

#: The command line, a config, an annotation file or an output path cannot
#: be used; checked before any work, so nothing ran.
USAGE_ERROR = 2
#: A run started and stopped on what it met; finished work is kept.
RUN_FAILED = 1


class ConfigError(Exception):
    """A config file or option the user gave cannot be used."""


class AnnotationError(ValueError):
    """An annotation file has a bad line."""


class CheckpointError(RuntimeError):
    """A checkpoint cannot be read, is unsafe, or does not fit the model."""


class ResultsFileError(ValueError):
    """A result file (predictions, a training log) is unreadable, unsafe
    or of another layout."""


class UnreadableImageError(RuntimeError):
    """An image file is missing, empty, truncated or not an image."""


class NonFiniteError(RuntimeError):
    """A run met NaN or infinite values where results must be finite."""


class NonFiniteLossError(NonFiniteError):
    """Training met a NaN or infinite loss and stopped before updating."""


class NonFiniteScoresError(NonFiniteError):
    """An evaluation produced NaN or infinite scores."""


class StalledRankError(RuntimeError):
    """A distributed run stopped because a rank stopped answering."""


#: Error type -> exit status; a subclass takes its base's status.
EXIT_STATUS: Dict[type, int] = {
    ConfigError: USAGE_ERROR,
    AnnotationError: USAGE_ERROR,
    CheckpointError: RUN_FAILED,
    ResultsFileError: RUN_FAILED,
    UnreadableImageError: RUN_FAILED,
    NonFiniteError: RUN_FAILED,
    StalledRankError: RUN_FAILED,
}


def exit_status(error: BaseException) -> Optional[int]:
    """The status a tool exits with for ``error``, or None for an error no
    user input causes (a bug, which keeps its traceback).

    Example:
        >>> exit_status(ConfigError('x')), exit_status(KeyError('x'))
        (2, None)
    """
    for kind in type(error).__mro__:
        if kind in EXIT_STATUS:
            return EXIT_STATUS[kind]
    return None
