# Pre-training pairs streamed from tar shards written by
# tools/data/make_shards.py (docs/data_preparation.md, "Shards"). The
# pipeline is the file-based one (its video readers read the shard's bytes);
# noun/verb tags come precomputed in the shards. An IterableDataset takes no
# sampler: VideoTextShardDataset splits each epoch over ranks and workers
# itself, and ResumableEpochBasedTrainLoop tells it the epoch.
_base_ = ['./video_text_loaders.py']

train_dataloader = dict(
    sampler=None,
    dataset=dict(
        type='VideoTextShardDataset',
        data_root='data/webvid/shards',
        shuffle_buffer=1000))
val_dataloader = None
test_dataloader = None
