"""Score a saved ``tools/test.py --out`` file with other metrics, without
running the model again.

Metrics are mmengine/mmpretrain metric configs, as mmpretrain's own
``eval_metric.py`` takes them (``--metric type=Accuracy topk=1,5``);
without ``--metric`` it reports top-1/top-5 accuracy and the per-class
precision, recall and F1 (mmpretrain's ``SingleLabelMetric``,
``average=None``). A missing file or an unknown metric is one line on
stderr, exit status 2.

Example:
    python tools/test.py configs/inception_v3_8xb32_in1k.py CKPT \
        --out preds.pkl
    python tools/analysis_tools/eval_metric.py preds.pkl \
        --metric type=Accuracy topk=1,2,3
"""
import argparse
import json
import os.path as osp
import sys

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
                raise ValueError(f'--metric {pair}: give key=value pairs, '
                                 'e.g. type=Accuracy topk=1,5')
            key, value = pair.split('=', 1)
            config[key] = DictAction._parse_iterable(value)
        if 'type' not in config:
            raise ValueError(f'--metric {" ".join(options)}: name the '
                             'metric with type=..., e.g. type=Accuracy')
        configs.append(config)
    return configs


def main(argv=None) -> int:
    args = parse_args(argv)
    if not osp.isfile(args.pkl_results):
        print(f'error: results file not found: {args.pkl_results}',
              file=sys.stderr)
        return 2
    import mmengine
    import torch
    from mmengine.evaluator import Evaluator

    from mmpre_inception import register_all_modules
    from mmpre_inception.registry import METRICS
    register_all_modules()
    try:
        metrics = [METRICS.build(config)
                   for config in metric_configs(args.metric_options)]
    except (KeyError, ValueError, TypeError) as error:
        message = error.args[0] if error.args else error
        print(f'error: {str(message).splitlines()[0]}', file=sys.stderr)
        return 2
    predictions = mmengine.load(args.pkl_results)
    results = Evaluator(metrics).offline_evaluate(predictions, None)
    plain = {key: value.tolist() if isinstance(value, torch.Tensor)
             else value for key, value in results.items()}
    for key, value in plain.items():
        shown = f'{value:.2f}' if isinstance(value, float) else \
            ' '.join(f'{v:.2f}' for v in value) if isinstance(
                value, list) else value
        print(f'{key}: {shown}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(plain, f, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
