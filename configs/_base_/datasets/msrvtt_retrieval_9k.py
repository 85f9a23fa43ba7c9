# MSR-VTT retrieval: 9k train pairs (180k captions), 1k-A test. See docs/data_preparation.md.
_base_ = ['./pipelines/u12_224.py']

dataset_type = 'MSRVTTRetrievalDataset'
data_root = 'data/msrvtt'
data_prefix = dict(video='videos', objects='objects')

train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file='MSRVTT_train.9k.csv',
        caption_file='MSRVTT_data.json',
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
        ann_file='MSRVTT_JSFUSION_test.csv',
        data_root=data_root,
        data_prefix=data_prefix,
        pipeline={{_base_.val_pipeline}},
        test_mode=True,
    ))
test_dataloader = val_dataloader
