"""What the tools print: one line per error, and no known noise."""
import warnings


def one_line_message(error: BaseException) -> str:
    """The message of ``error`` on one line; for an error re-raised from a
    data-loader worker (whose message is the worker's traceback), the
    original message."""
    lines = [line for line in str(error).splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    last = lines[-1].strip()
    if len(lines) > 1 and ': ' in last:
        head, message = last.split(': ', 1)
        if head.replace('.', '').replace('_', '').isalnum():
            return message  # "package.module.SomeError: message"
    return ' '.join(line.strip() for line in lines)


def silence_known_warnings() -> None:
    """Hide warnings that every run would print and that concern nothing
    Inception V3 uses; for the tools' processes (call it before importing
    mmcv or mmpretrain). The package itself never changes the filters.

    mmcv-lite has no compiled ops, and mmcv warns on import that its
    deformable attention (a transformer op) is unavailable.
    """
    warnings.filterwarnings(
        'ignore', message='Fail to import ``MultiScaleDeformableAttention``')
