"""Reading the JSON training logs mmengine writes
(``<work_dir>/<timestamp>/vis_data/<timestamp>.json``)."""
import json
import os.path as osp
from typing import List, Sequence

from mmpre_inception.errors import ConfigError, ResultsFileError


def load_json_logs(paths: Sequence[str]) -> List[dict]:
    """Each log as mmpretrain's ``load_json_log`` reads it, after checking
    that it is one.

    Raises:
        ConfigError: A path is missing or not a ``.json`` log.
        ResultsFileError: A line of it is not JSON; names the line.
    """
    from mmpretrain.utils import load_json_log
    for path in paths:
        if not osp.isfile(path):
            raise ConfigError(f'log not found: {path}')
        if not path.endswith('.json'):
            raise ConfigError(
                f'{path}: give the JSON log (<work_dir>/<timestamp>/'
                'vis_data/<timestamp>.json)')
        with open(path, encoding='utf-8', errors='replace') as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    json.loads(line)
                except json.JSONDecodeError as error:
                    raise ResultsFileError(
                        f'{path}:{number}: not a JSON log line ({error.msg}); '
                        'give the vis_data/<timestamp>.json file mmengine '
                        'wrote') from None
    return [load_json_log(path) for path in paths]
