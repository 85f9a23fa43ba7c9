# MSVD captioning (1200 train / 100 val / 670 test clips, ~40 references).
_base_ = ['./pipelines/u12_224.py']

dataset_type = 'MSVDCaptionDataset'
data_root = 'data/msvd'
data_prefix = dict(video='YouTubeClips', objects='objects')

train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file='train_list.txt',
        caption_file='raw-captions.json',
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
        ann_file='val_list.txt',
        caption_file='raw-captions.json',
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
        ann_file='test_list.txt',
        caption_file='raw-captions.json',
        data_root=data_root,
        data_prefix=data_prefix,
        pipeline={{_base_.test_pipeline}},
        test_mode=True,
    ))
