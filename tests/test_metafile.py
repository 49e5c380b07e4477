"""configs/metafile.yml points at files that exist and figures we check."""
import os.path as osp

import yaml
from helpers.tools import REPO

from mmpre_inception.utils import load_config


def test_model_index_and_metafile_are_consistent():
    with open(osp.join(REPO, 'model-index.yml')) as f:
        index = yaml.safe_load(f)
    (metafile, ) = index['Import']
    with open(osp.join(REPO, metafile)) as f:
        meta = yaml.safe_load(f)
    names = [model['Name'] for model in meta['Models']]
    assert len(names) == len(set(names))
    for model in meta['Models']:
        load_config(osp.join(REPO, model['Config']))  # parses
        assert model['Metadata'] == {'FLOPs': 5745177632,
                                     'Parameters': 23834568}
        converter = model['Converted From'].get('Converter')
        if converter:
            assert osp.isfile(osp.join(REPO, converter.split()[0]))
        for result in model.get('Results', []):
            metrics = result['Metrics']
            assert 0 < metrics['Top 1 Accuracy'] < metrics[
                'Top 5 Accuracy'] < 100
