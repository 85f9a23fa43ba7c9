# WebVid-2M pre-training pairs (2.5M clips).
_base_ = ['./pipelines/u12_224.py']

dataset_type = 'WebVidDataset'
data_root = 'data/webvid'
data_prefix = dict(video='videos', objects='objects')

train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file='results_2M_train.csv',
        data_root=data_root,
        data_prefix=data_prefix,
        pipeline={{_base_.train_pipeline}},
    ))
