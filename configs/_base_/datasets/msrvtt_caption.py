# MSR-VTT captioning: train split pairs, test split (2990 videos, all references).
_base_ = ['./pipelines/u12_224.py']

dataset_type = 'MSRVTTCaptionDataset'
data_root = 'data/msrvtt'
data_prefix = dict(video='videos', objects='objects')

train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file='MSRVTT_data.json',
        split='train',
        data_root=data_root,
        data_prefix=data_prefix,
        pipeline={{_base_.train_pipeline}},
    ))
val_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file='MSRVTT_data.json',
        split='validate',
        data_root=data_root,
        data_prefix=data_prefix,
        pipeline={{_base_.val_pipeline}},
        test_mode=True,
    ))
test_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file='MSRVTT_data.json',
        split='test',
        data_root=data_root,
        data_prefix=data_prefix,
        pipeline={{_base_.test_pipeline}},
        test_mode=True,
    ))
