# MSRVTT-QA open-ended video question answering.
_base_ = ['./pipelines/u12_224.py']

dataset_type = 'MSRVTTQADataset'
data_root = 'data/msrvtt'
data_prefix = dict(video='videos', objects='objects')

train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file='msrvtt_qa/train_qa.json',
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
        ann_file='msrvtt_qa/val_qa.json',
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
        ann_file='msrvtt_qa/test_qa.json',
        data_root=data_root,
        data_prefix=data_prefix,
        pipeline={{_base_.test_pipeline}},
        test_mode=True,
    ))
