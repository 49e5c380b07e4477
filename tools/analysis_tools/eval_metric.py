"""Score a saved ``tools/test.py --out`` file with other metrics, without
running the model again.

Metrics are mmengine/mmpretrain metric configs, as mmpretrain's own
``eval_metric.py`` takes them (``--metric type=Accuracy topk=1,5``);
without ``--metric`` it reports top-1/top-5 accuracy and the per-class
precision, recall and F1 (mmpretrain's ``SingleLabelMetric``,
``average=None``). The file is read without running anything in it. A
missing file or an unknown metric is one line on stderr, exit status 2; a
file that is not a ``--out`` file, exit status 1.

Example:
    python tools/test.py configs/inception_v3_8xb32_in1k.py CKPT \\
        --out preds.pkl
    python tools/analysis_tools/eval_metric.py preds.pkl \\
        --metric type=Accuracy topk=1,2,3
"""
import argparse
import sys

from mmpre_inception.apis.cli import command_line
from mmpre_inception.errors import ConfigError

DEFAULT_METRICS = [
    dict(type='Accuracy', topk=(1, 5)),
    dict(type='SingleLabelMetric', items=('precision', 'recall', 'f1-score'),
         average=None),
]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('pkl_results', help='a tools/test.py --out file')
    parser.add_argument(
        '--metric', nargs='+', action='append', dest='metric_options',
        metavar='KEY=VALUE',
        help='one metric as key=value pairs (type=... first); repeat '
        '--metric for more')
    parser.add_argument('--out', help='also write the results here (JSON)')
    return parser.parse_args(argv)


def metric_configs(metric_options) -> list:
    from mmengine.config import DictAction
    if not metric_options:
        return DEFAULT_METRICS
    configs = []
    for options in metric_options:
        config = {}
        for pair in options:
            if '=' not in pair:
                raise ConfigError(f'--metric {pair}: give key=value pairs, '
                                  'e.g. type=Accuracy topk=1,5')
            key, value = pair.split('=', 1)
            config[key] = DictAction._parse_iterable(value)
        if 'type' not in config:
            raise ConfigError(f'--metric {" ".join(options)}: name the '
                              'metric with type=..., e.g. type=Accuracy')
        configs.append(config)
    return configs


def build_metrics(metric_options) -> list:
    from mmpre_inception import register_all_modules
    from mmpre_inception.registry import METRICS
    register_all_modules()
    try:
        return [METRICS.build(config)
                for config in metric_configs(metric_options)]
    except (KeyError, ValueError, TypeError) as error:
        message = error.args[0] if error.args else error
        raise ConfigError(str(message).splitlines()[0]) from None


def main(argv=None) -> int:
    args = parse_args(argv)
    with command_line() as outcome:
        import torch
        from mmengine.evaluator import Evaluator

        from mmpre_inception.apis import load_results, write_json
        predictions = load_results(args.pkl_results)
        metrics = build_metrics(args.metric_options)
        results = Evaluator(metrics).offline_evaluate(predictions, None)
        plain = {key: value.tolist() if isinstance(value, torch.Tensor)
                 else value for key, value in results.items()}
        for key, value in plain.items():
            shown = f'{value:.2f}' if isinstance(value, float) else \
                ' '.join(f'{v:.2f}' for v in value) if isinstance(
                    value, list) else value
            print(f'{key}: {shown}')
        if args.out:
            write_json(plain, args.out)
    return outcome.status


if __name__ == '__main__':
    sys.exit(main())
