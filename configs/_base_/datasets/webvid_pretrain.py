# WebVid-2M pre-training pairs (2.5M clips): the WebVid preset of
# VideoTextDataset (columns videoid/name/page_dir, videos
# <page_dir>/<videoid>.mp4), rows kept compactly (docs/data_preparation.md).
_base_ = ['./video_text_loaders.py']

dataset_type = 'WebVidDataset'
data_root = 'data/webvid'
data_prefix = dict(video='videos', objects='objects')

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='results_2M_train.csv',
        data_root=data_root,
        data_prefix=data_prefix))
val_dataloader = None
test_dataloader = None
