# LSMDC retrieval (101k train clips, 1000 test clips).
_base_ = ['./pipelines/u12_224.py']

dataset_type = 'LSMDCRetrievalDataset'
data_root = 'data/lsmdc'
data_prefix = dict(video='avi', objects='objects')

train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file='LSMDC16_annos_training.csv',
        nested_by_movie=True,
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
        ann_file='LSMDC16_challenge_1000_publictect.csv',
        nested_by_movie=True,
        data_root=data_root,
        data_prefix=data_prefix,
        pipeline={{_base_.val_pipeline}},
        test_mode=True,
    ))
test_dataloader = val_dataloader
