# MSVD-QA open-ended video question answering.
_base_ = ['./video_text_eval.py']

dataset_type = 'MSVDQADataset'
data_root = 'data/msvd'
data_prefix = dict(video='YouTubeClips', objects='objects')

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='msvd_qa/train_qa.json',
        mapping_file='youtube_mapping.txt',
        data_root=data_root,
        data_prefix=data_prefix))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='msvd_qa/val_qa.json',
        mapping_file='youtube_mapping.txt',
        data_root=data_root,
        data_prefix=data_prefix))
test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='msvd_qa/test_qa.json',
        mapping_file='youtube_mapping.txt',
        data_root=data_root,
        data_prefix=data_prefix))
