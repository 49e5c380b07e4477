"""Metrics of mmpre_inception (registry location of ``METRICS``).

Evaluation uses mmpretrain's metrics, found through the parent registry;
those here change one behaviour each, said in their docstrings, and
``ensemble`` combines the predictions of several test runs.
"""
from .accuracy import AccuracyUpToClasses
from .ensemble import CollectScores, average_scores, compute_locally
from .results import (AtomicDumpResults, ResultsFileError, dump_results,
                      load_results, write_json)

__all__ = [
    'AccuracyUpToClasses', 'CollectScores', 'average_scores',
    'compute_locally', 'AtomicDumpResults', 'ResultsFileError',
    'dump_results', 'load_results', 'write_json'
]
