# Names given as strings are looked up in mmpre_inception first, then
# mmpretrain, then mmengine.
from mmengine.hooks import (CheckpointHook, DistSamplerSeedHook, IterTimerHook,
                            LoggerHook, ParamSchedulerHook)
from mmengine.visualization import LocalVisBackend
from mmpretrain.visualization import UniversalVisualizer

from mmpre_inception.engine import (ConsoleSummaryRunner, EpochSeedHook,
                                    NonFiniteLossHook, ProgressHook,
                                    RGBVisualizationHook,
                                    StopLoaderWorkersHook)

default_scope = 'mmpre_inception'
# mmengine's Runner; the console leaves out the start-of-run listings
# (environment, config, hooks), which the log file in work_dir keeps.
runner_type = ConsoleSummaryRunner

default_hooks = dict(
    timer=dict(type=IterTimerHook),
    logger=dict(type=LoggerHook, interval=100),
    param_scheduler=dict(type=ParamSchedulerHook),
    checkpoint=dict(type=CheckpointHook, interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type=DistSamplerSeedHook),
    # mmpretrain's hook, with the BGR images turned to RGB for drawing.
    visualization=dict(type=RGBVisualizationHook, enable=False),
    # A NaN or infinite loss stops training before the update
    # (action='skip' skips that update instead).
    nonfinite_loss=dict(type=NonFiniteLossHook, action='raise'),
    # Seeds per epoch, so that --resume continues exactly.
    epoch_seed=dict(type=EpochSeedHook),
    # A line with the rate and the time left every 10 s: the logger's
    # interval of 100 iterations can be minutes apart on a CPU.
    progress=dict(type=ProgressHook, interval_s=10),
    # Persistent data-loader workers stop when the run ends, not at
    # garbage collection (which spills tracebacks in distributed runs).
    stop_workers=dict(type=StopLoaderWorkersHook),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py and tools/test.py switch to gloo without a GPU.
    # timeout: seconds a rank waits for the others in a collective before
    # the run stops, naming the rank that stopped answering (torch's
    # default is 30 minutes).
    dist_cfg=dict(backend='nccl', timeout=600),
)

vis_backends = [dict(type=LocalVisBackend)]
visualizer = dict(type=UniversalVisualizer, vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=None, deterministic=False)
