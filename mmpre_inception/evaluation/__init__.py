"""Metrics of mmpre_inception (registry location of ``METRICS``).

Evaluation uses mmpretrain's metrics, found through the parent registry;
those here change one behaviour each, said in their docstrings.
"""
from .accuracy import AccuracyUpToClasses

__all__ = ['AccuracyUpToClasses']
