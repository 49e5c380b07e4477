"""The process group of a distributed run on machines without GPUs."""
import datetime
import gc
import os
import subprocess
from typing import Optional

import torch
import torch.distributed as dist


def init_cpu_distributed(launcher: str,
                         timeout_s: Optional[float] = None) -> None:
    """Start the gloo process group for a launch on machines without GPUs.

    mmengine's ``init_dist`` calls ``torch.cuda.set_device`` for the
    pytorch and slurm launchers, which fails on CPU-only machines. A
    process group started here makes the Runner skip its own
    initialisation. For slurm, the rendezvous comes from slurm's variables
    as mmengine reads them: rank ``SLURM_PROCID`` of ``SLURM_NTASKS``, the
    first host of ``SLURM_NODELIST`` as master, port ``MASTER_PORT``
    (default 29500).

    Args:
        launcher (str): ``--launcher`` value.
        timeout_s (float, optional): How long a collective operation waits
            for the other ranks (the config's ``env_cfg.dist_cfg.timeout``,
            seconds, as mmengine reads it). None keeps torch's default.
    """
    if launcher not in ('pytorch', 'slurm') or torch.cuda.is_available() \
            or dist.is_initialized():
        return
    if launcher == 'slurm':
        os.environ.update(
            RANK=os.environ['SLURM_PROCID'],
            WORLD_SIZE=os.environ['SLURM_NTASKS'],
            LOCAL_RANK=os.environ['SLURM_LOCALID'])
        os.environ.setdefault('MASTER_PORT', '29500')
        if 'MASTER_ADDR' not in os.environ:
            os.environ['MASTER_ADDR'] = first_slurm_host(
                os.environ['SLURM_NODELIST'])
    kwargs = {} if timeout_s is None else dict(
        timeout=datetime.timedelta(seconds=timeout_s))
    dist.init_process_group(backend='gloo', **kwargs)


def first_slurm_host(node_list: str) -> str:
    """The first host name of a slurm node list such as ``node[1-4]``."""
    result = subprocess.run(['scontrol', 'show', 'hostnames', node_list],
                            capture_output=True, text=True, check=True)
    return result.stdout.split()[0]


def shutdown_distributed() -> None:
    """Destroy the process group, if any, before the interpreter exits.

    gloo aborts the process ("terminate called without an active
    exception") when the group is torn down implicitly at exit, and also,
    at random, when it is destroyed while a ``DistributedDataParallel``
    wrapper still holds it. Callers must drop their Runner first; the
    collection here frees the reference cycles a Runner leaves behind.
    """
    if dist.is_available() and dist.is_initialized():
        gc.collect()
        dist.destroy_process_group()


def cpus_for_this_process() -> int:
    """CPUs this process may run on (its affinity, which a scheduler such
    as slurm or a container narrows), as PyTorch's DataLoader counts them
    when it warns about too many workers."""
    if hasattr(os, 'sched_getaffinity'):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def ranks_on_this_node() -> int:
    """Processes of this run sharing this machine: ``LOCAL_WORLD_SIZE``
    (torchrun), ``SLURM_NTASKS_PER_NODE`` (slurm), else 1."""
    for name in ('LOCAL_WORLD_SIZE', 'SLURM_NTASKS_PER_NODE'):
        value = os.environ.get(name, '')
        # slurm writes e.g. '4(x2)' for heterogeneous allocations
        digits = value.split('(')[0]
        if digits.isdigit() and int(digits) > 0:
            return int(digits)
    return 1


def auto_num_workers(cpus: Optional[int] = None,
                     ranks: Optional[int] = None) -> int:
    """Data-loader workers per rank that keep every CPU busy and none
    oversubscribed: the rank's share of the CPUs less one for the rank's
    own process (which runs the model and collates), at least one.

    Args:
        cpus (int, optional): CPUs available; default
            :func:`cpus_for_this_process`.
        ranks (int, optional): Ranks sharing them; default
            :func:`ranks_on_this_node`.

    Returns:
        int: The number of worker processes.

    Example:
        >>> auto_num_workers(cpus=16, ranks=1), auto_num_workers(2, 1)
        (15, 1)
        >>> auto_num_workers(cpus=128, ranks=8), auto_num_workers(2, 2)
        (15, 1)
    """
    cpus = cpus_for_this_process() if cpus is None else cpus
    ranks = ranks_on_this_node() if ranks is None else ranks
    return max(1, cpus // max(1, ranks) - 1)


def restart_count() -> int:
    """How often the run has been started again after a failure: torchrun
    counts its restarts (``--max-restarts``, ``MAX_RESTARTS`` of
    tools/dist_train.sh) in ``TORCHELASTIC_RESTART_COUNT``, and
    tools/slurm_train.sh sets the same variable for its own; 0 for a
    first start.

    Example:
        >>> restart_count()  # doctest: +SKIP
        0
    """
    try:
        return max(0, int(os.environ.get('TORCHELASTIC_RESTART_COUNT', 0)))
    except ValueError:
        return 0


def end_with_launcher() -> None:
    """Have the kernel end this process (SIGTERM) when the process that
    started it ends: a worker whose torchrun agent is killed would
    otherwise train on alone, an orphan holding its node's GPUs and its
    peers' connections (Linux; elsewhere nothing changes).

    torchrun stops its workers itself when it is stopped with a signal it
    can catch; this covers the one it cannot (SIGKILL: an out-of-memory
    killer, a node's scheduler).
    """
    import ctypes
    import signal
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return  # not Linux
    parent = os.getppid()
    PR_SET_PDEATHSIG = 1  # noqa: N806 (the constant of <sys/prctl.h>)
    if prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        return
    if os.getppid() != parent or parent == 1:
        # The launcher ended before the request took effect.
        os.kill(os.getpid(), signal.SIGTERM)
