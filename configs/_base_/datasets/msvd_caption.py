# MSVD captioning (1200 train / 100 val / 670 test clips, ~40 references).
_base_ = ['./video_text_eval.py']

dataset_type = 'MSVDCaptionDataset'
data_root = 'data/msvd'
data_prefix = dict(video='YouTubeClips', objects='objects')

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='train_list.txt',
        caption_file='raw-captions.json',
        data_root=data_root,
        data_prefix=data_prefix))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='val_list.txt',
        caption_file='raw-captions.json',
        data_root=data_root,
        data_prefix=data_prefix))
test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='test_list.txt',
        caption_file='raw-captions.json',
        data_root=data_root,
        data_prefix=data_prefix))
