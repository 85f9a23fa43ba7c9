# MSRVTT-QA open-ended video question answering.
_base_ = ['./video_text_eval.py']

dataset_type = 'MSRVTTQADataset'
data_root = 'data/msrvtt'
data_prefix = dict(video='videos', objects='objects')

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='msrvtt_qa/train_qa.json',
        data_root=data_root,
        data_prefix=data_prefix))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='msrvtt_qa/val_qa.json',
        data_root=data_root,
        data_prefix=data_prefix))
test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='msrvtt_qa/test_qa.json',
        data_root=data_root,
        data_prefix=data_prefix))
