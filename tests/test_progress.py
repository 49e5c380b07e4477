"""ProgressHook: a line with the rate and the time left, by the clock."""
import types

from mmpre_inception.engine import ProgressHook
from mmpre_inception.engine.hooks import progress_hook


def test_progress_lines_follow_the_clock_not_the_iterations(monkeypatch):
    clock = iter([0.0, 4.0, 10.0, 12.0, 21.0])
    monkeypatch.setattr(progress_hook.time, 'monotonic', lambda: next(clock))
    lines = []
    monkeypatch.setattr(progress_hook, 'print_log',
                        lambda message, logger: lines.append(message))
    loader = types.SimpleNamespace(dataset=list(range(100)))
    runner = types.SimpleNamespace(test_dataloader=loader)
    hook = ProgressHook(interval_s=10)
    hook.before_test_epoch(runner)  # t=0
    batch = dict(inputs=[None] * 8)
    for index in range(4):  # t=4, 10, 12, 21
        hook.after_test_iter(runner, index, batch)
    # Lines at t=10 (16 images) and t=21 (32 images, 10 s after the last).
    assert lines == ['test: 16/100 images, 1.6 img/s, 52 s left',
                     'test: 32/100 images, 1.5 img/s, 45 s left']


def test_main_config_shows_progress_every_10_s():
    import os.path as osp

    from helpers.tools import REPO
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, 'configs',
                                   'inception_v3_8xb32_in1k.py'))
    assert cfg.default_hooks.progress == dict(type=ProgressHook,
                                              interval_s=10)
