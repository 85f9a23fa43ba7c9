# MSR-VTT multiple choice (evaluation only, 2990 questions).
_base_ = ['./pipelines/u12_224.py']

dataset_type = 'MSRVTTMCDataset'
data_root = 'data/msrvtt'
data_prefix = dict(video='videos', objects='objects')

test_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file='msrvtt_mc/msrvtt_mc_test.json',
        data_root=data_root,
        data_prefix=data_prefix,
        pipeline={{_base_.test_pipeline}},
        test_mode=True,
    ))
