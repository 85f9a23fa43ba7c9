# MSR-VTT captioning: train split pairs, test split (2990 videos, all
# references).
_base_ = ['./video_text_eval.py']

dataset_type = 'MSRVTTCaptionDataset'
data_root = 'data/msrvtt'
data_prefix = dict(video='videos', objects='objects')

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='MSRVTT_data.json',
        split='train',
        data_root=data_root,
        data_prefix=data_prefix))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='MSRVTT_data.json',
        split='validate',
        data_root=data_root,
        data_prefix=data_prefix))
test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='MSRVTT_data.json',
        split='test',
        data_root=data_root,
        data_prefix=data_prefix))
