"""What the analysis tools share: figures of an exact pixel size, and
result files read and checked against a config. Each tool's own drawing
lives in the tool (``tools/analysis_tools/``, ``tools/visualization/``),
as mmpretrain's does. Not needed to train or evaluate."""
