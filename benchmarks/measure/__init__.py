"""What ``benchmarks/benchmark.py`` measures, one module per mode (the
model alone, the training step, evaluation end to end, the data loaders
on their own), and what the benchmarks and tests share: the other
libraries' networks (``anchors``, ``mmpretrain_reference``), the aten
calls of a training step (``training_step``) and well-conditioned random
weights (``calibration``)."""
from .common import describe_machine, peak_memory, print_rates
from .end_to_end import e2e_rates
from .loaders import loader_rates
from .model import inference_models, model_rates
from .training import train_rates

__all__ = [
    'describe_machine', 'peak_memory', 'print_rates', 'e2e_rates',
    'loader_rates',
    'inference_models', 'model_rates', 'train_rates'
]
