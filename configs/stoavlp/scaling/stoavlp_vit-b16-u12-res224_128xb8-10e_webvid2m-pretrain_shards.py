# Pre-training read from tar shards (tools/data/make_shards.py) instead of
# millions of files: the same items per epoch, the same pipeline (videos
# read from the shards' bytes, noun/verb tags precomputed). Write them with
#   python tools/data/make_shards.py \
#       configs/_base_/datasets/webvid_pretrain.py data/webvid/shards
# (or from your corpus' config: docs/data_preparation.md, "Your own corpus
# in five commands").
_base_ = ['../stoavlp_vit-b16-u12-res224_128xb8-10e_webvid2m-pretrain.py']

train_dataloader = dict(
    sampler=None,  # VideoTextShardDataset splits epochs itself
    dataset=dict(
        _delete_=True,
        type='VideoTextShardDataset',
        data_root='data/webvid/shards',
        shuffle_buffer=1000,
        pipeline={{_base_.train_pipeline}}))
