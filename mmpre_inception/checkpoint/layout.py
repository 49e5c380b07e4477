"""Checkpoint key layouts: mmpretrain's published Inception V3 and ours.

mmpretrain's ``InceptionV3`` is one "backbone" that ends in the classifiers
(``backbone.fc.*``, ``backbone.AuxLogits.*``); in our split model they belong
to the head (``head.fc.*``, ``head.AuxLogits.*``). Every other key is the
same.
"""
from typing import Dict

import torch

MMPRETRAIN_TO_HEAD = {
    'backbone.fc.': 'head.fc.',
    'backbone.AuxLogits.': 'head.AuxLogits.',
}

#: Key prefixes a checkpoint may lack: mmpretrain's published checkpoint was
#: trained without the auxiliary classifier, which inference never runs and
#: which fine-tuning starts from its initialisation.
AUX_CLASSIFIER_PREFIXES = ('head.AuxLogits.', )


def relocate_mmpretrain_keys(state_dict: Dict[str, torch.Tensor],
                             prefix: str = '') -> int:
    """Move mmpretrain's ``backbone.fc.*`` / ``backbone.AuxLogits.*`` entries
    to ``head.fc.*`` / ``head.AuxLogits.*``, in place.

    Args:
        state_dict (dict): A state dict, possibly in mmpretrain's layout.
        prefix (str): Prefix of the classifier's keys within ``state_dict``.

    Returns:
        int: How many entries were moved (0 for our own layout).

    Raises:
        KeyError: Both layouts hold the same tensor.

    Example:
        >>> import torch
        >>> sd = {'backbone.fc.weight': torch.zeros(1)}
        >>> relocate_mmpretrain_keys(sd), list(sd)
        (1, ['head.fc.weight'])
    """
    moved = 0
    for key in list(state_dict):
        for old, new in MMPRETRAIN_TO_HEAD.items():
            if key.startswith(prefix + old):
                new_key = prefix + new + key[len(prefix + old):]
                if new_key in state_dict:
                    raise KeyError(
                        f'Checkpoint has both {key!r} (mmpretrain layout) '
                        f'and {new_key!r}; cannot tell which to load.')
                state_dict[new_key] = state_dict.pop(key)
                moved += 1
    return moved
