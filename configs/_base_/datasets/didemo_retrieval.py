# DiDeMo paragraph-to-video retrieval (8k train videos, 1k test).
_base_ = ['./video_text_loaders.py']

dataset_type = 'DiDeMoRetrievalDataset'
data_root = 'data/didemo'
data_prefix = dict(video='videos', objects='objects')

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='train_data.json',
        list_file='train_list.txt',
        data_root=data_root,
        data_prefix=data_prefix))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='test_data.json',
        list_file='test_list.txt',
        data_root=data_root,
        data_prefix=data_prefix))
test_dataloader = val_dataloader
