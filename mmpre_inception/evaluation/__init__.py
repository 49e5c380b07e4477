"""Metrics of mmpre_inception (registry location of ``METRICS``).

Evaluation uses mmpretrain's ``Accuracy``, found through the parent
registry; metrics of our own are registered here.
"""
