# The `make demo` job: the main config on the generated shapes data set
# (mmpre_inception.datasets.make_synthetic_imagenet), at 112x112 for a few
# epochs so it trains on a 2-core CPU in about two minutes.
_base_ = ['../inception_v3_8xb32_in1k.py']

data_root = 'work_dirs/demo/data'
# The ten classes of mmpre_inception.datasets.SHAPES, in label order.
classes = ('circle', 'square', 'triangle', 'cross', 'star', 'circle_outline',
           'square_outline', 'triangle_outline', 'cross_outline',
           'star_outline')
input_size = 112

model = dict(head=dict(num_classes=len(classes)))
data_preprocessor = dict(num_classes=len(classes))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=input_size, crop_ratio_range=(0.5, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=input_size, edge='short'),
    dict(type='CenterCrop', crop_size=input_size),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        type='CustomDataset',
        data_root=data_root,
        ann_file='meta/train.txt',
        data_prefix='train',
        metainfo=dict(classes=classes),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        type='CustomDataset',
        data_root=data_root,
        ann_file='meta/val.txt',
        data_prefix='val',
        metainfo=dict(classes=classes),
        pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.01))
param_scheduler = dict(
    type='CosineAnnealingLR', T_max=6, by_epoch=True, begin=0, end=6)
train_cfg = dict(max_epochs=6, val_interval=6)

default_hooks = dict(
    logger=dict(interval=4),
    checkpoint=dict(interval=3, max_keep_ckpts=2))
randomness = dict(seed=0)
