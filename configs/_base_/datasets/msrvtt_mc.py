# MSR-VTT multiple choice (evaluation only, 2990 questions).
_base_ = ['./video_text_loaders.py']

dataset_type = 'MSRVTTMCDataset'
data_root = 'data/msrvtt'
data_prefix = dict(video='videos', objects='objects')

train_dataloader = None
val_dataloader = None
test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='msrvtt_mc/msrvtt_mc_test.json',
        data_root=data_root,
        data_prefix=data_prefix))
