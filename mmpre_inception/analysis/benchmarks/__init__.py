"""The throughput benchmarks of ``tools/analysis_tools/benchmark.py``, one
module per mode: the model alone, the training step, evaluation end to
end, and the data loaders on their own."""
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
