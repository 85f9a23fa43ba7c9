# MSVD-QA open-ended video question answering.
_base_ = ['./pipelines/u12_224.py']

dataset_type = 'MSVDQADataset'
data_root = 'data/msvd'
data_prefix = dict(video='YouTubeClips', objects='objects')

train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file='msvd_qa/train_qa.json',
        mapping_file='youtube_mapping.txt',
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
        ann_file='msvd_qa/val_qa.json',
        mapping_file='youtube_mapping.txt',
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
        ann_file='msvd_qa/test_qa.json',
        mapping_file='youtube_mapping.txt',
        data_root=data_root,
        data_prefix=data_prefix,
        pipeline={{_base_.test_pipeline}},
        test_mode=True,
    ))
