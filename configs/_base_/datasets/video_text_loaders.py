# Dataloaders every video-text dataset config starts from: the paper's input
# pipelines (u12_224.py), 8 clips per GPU, shuffled training; evaluation is
# the same loader read in order, in test mode. A dataset config only fills
# in `dataset` (type, annotation files, paths). The loops that run val/test
# come with video_text_eval.py or video_text_retrieval.py.
_base_ = ['./pipelines/u12_224.py']

train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    train_dataloader,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(pipeline={{_base_.val_pipeline}}, test_mode=True))
test_dataloader = val_dataloader
