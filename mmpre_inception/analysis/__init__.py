"""What the analysis tools draw, one module per tool where mmpretrain's
own tool falls short (learning curves, pipeline steps, confusion
matrices, failure galleries, class activation maps), and the figures they
share. Not needed to train or evaluate."""
