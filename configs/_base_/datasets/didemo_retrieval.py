# DiDeMo paragraph-to-video retrieval (8k train videos, 1k test). Paragraphs
# are long: 64 text tokens (official max_words 64), hence its own pipelines
# (pipelines/u12_224_l64.py) instead of video_text_loaders.py's.
_base_ = ['./pipelines/u12_224_l64.py']

dataset_type = 'DiDeMoRetrievalDataset'
data_root = 'data/didemo'
data_prefix = dict(video='videos', objects='objects')

train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file='train_data.json',
        list_file='train_list.txt',
        data_root=data_root,
        data_prefix=data_prefix,
        pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file='test_data.json',
        list_file='test_list.txt',
        data_root=data_root,
        data_prefix=data_prefix,
        pipeline={{_base_.val_pipeline}},
        test_mode=True))
test_dataloader = val_dataloader
