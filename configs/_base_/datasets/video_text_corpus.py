# Pre-training on your own video-caption corpus: VideoTextDataset reads a
# csv/tsv, jsonl or parquet table with the column names below (see
# docs/data_preparation.md, "Your own corpus"). It points at the demo's
# WebVid-style csv so that it runs as it is: set data_root, ann_file and
# columns to yours. Optional columns: video_id, start/end (seconds or
# [H:]M:S, a clip of a long video: only its frames are decoded), objects
# (detection file, relative to data_prefix.objects). A caption cell may be
# a list (jsonl/parquet) or several captions joined by caption_sep (csv).
_base_ = ['./video_text_loaders.py']

corpus = dict(
    type='VideoTextDataset',
    data_root='data/demo',
    data_prefix=dict(video='videos', objects='objects'),
    columns=dict(video='videoid', caption='name', start=None, end=None,
                 objects=None))

train_dataloader = dict(dataset=dict(corpus,
                                     ann_file='webvid/demo_train.csv'))
val_dataloader = None
test_dataloader = None
