# MSR-VTT retrieval: 9k train pairs (180k captions), 1k-A test.
_base_ = ['./video_text_retrieval.py']

dataset_type = 'MSRVTTRetrievalDataset'
data_root = 'data/msrvtt'
data_prefix = dict(video='videos', objects='objects')

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='MSRVTT_train.9k.csv',
        caption_file='MSRVTT_data.json',
        data_root=data_root,
        data_prefix=data_prefix))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='MSRVTT_JSFUSION_test.csv',
        data_root=data_root,
        data_prefix=data_prefix))
test_dataloader = val_dataloader
