# Names given as strings are looked up in mmpre_inception first, then
# mmpretrain, then mmengine.
from mmengine.hooks import (DistSamplerSeedHook, IterTimerHook, LoggerHook,
                            ParamSchedulerHook)
from mmengine.visualization import LocalVisBackend
from mmpretrain.visualization import UniversalVisualizer

from mmpre_inception.engine import (AtomicCheckpointHook,
                                    ConsoleSummaryRunner, EpochSeedHook,
                                    FoldBatchNormHook,
                                    MMEngineSafeGlobalsHook,
                                    NonFiniteLossHook, NonFiniteScoresHook,
                                    ProgressHook, RankProgressHook,
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
    # Checkpoints and last_checkpoint are written through a temporary file
    # and a rename: a crash or a full disk never leaves a partial one.
    checkpoint=dict(type=AtomicCheckpointHook, interval=1, max_keep_ckpts=3),
    # load_from and resume read Runner checkpoints with torch's
    # weights_only=True, allowing exactly the types mmengine writes.
    safe_globals=dict(type=MMEngineSafeGlobalsHook),
    sampler_seed=dict(type=DistSamplerSeedHook),
    # mmpretrain's hook, with the BGR images turned to RGB for drawing.
    visualization=dict(type=RGBVisualizationHook, enable=False),
    # A NaN or infinite loss stops training before the update
    # (action='skip' skips that update instead).
    nonfinite_loss=dict(type=NonFiniteLossHook, action='raise'),
    # An evaluation whose scores are NaN stops instead of printing metrics.
    nonfinite_scores=dict(type=NonFiniteScoresHook),
    # Seeds per epoch, so that --resume continues exactly.
    epoch_seed=dict(type=EpochSeedHook),
    # A line with the rate and the time left every 10 s: the logger's
    # interval of 100 iterations can be minutes apart on a CPU.
    progress=dict(type=ProgressHook, interval_s=10),
    # Each rank's iterations in the process group's store, so that a run
    # whose rank stops answering ends naming it.
    rank_progress=dict(type=RankProgressHook),
    # Persistent data-loader workers stop when the run ends, not at
    # garbage collection (which spills tracebacks in distributed runs).
    stop_workers=dict(type=StopLoaderWorkersHook),
    # Test runs fold BatchNorm into the convolutions (one pass over the
    # activations less; logits within float rounding). Without this entry
    # (tools/test.py --no-fold-bn) the model is evaluated unfolded.
    fold_batchnorm=dict(type=FoldBatchNormHook),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # Without GPUs our tools start a gloo process group before the Runner,
    # which then leaves it as it is.
    # timeout: seconds a rank waits for the others in a collective before
    # the run stops, naming the rank that stopped answering (torch's
    # default is 30 minutes).
    dist_cfg=dict(backend='nccl', timeout=600),
)

# mmengine's DistributedDataParallel, which also wraps a model on the CPU
# (gloo); given by import path, as the Runner looks it up by name.
model_wrapper_cfg = dict(
    type='mmpre_inception.engine.CPUDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=False)

vis_backends = [dict(type=LocalVisBackend)]
visualizer = dict(type=UniversalVisualizer, vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False
# A run started again after a failure (tools/dist_train.sh's MAX_RESTARTS,
# tools/slurm_train.sh's) resumes from the newest complete checkpoint in
# work_dir; False starts it over.
restart_resumes = True
randomness = dict(seed=None, deterministic=False)
