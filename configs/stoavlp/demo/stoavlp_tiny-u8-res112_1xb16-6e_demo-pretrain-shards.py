# The demo pre-training (stage 1 of the main job) read from tar shards
# instead of files: the same items per epoch, in another order. Write the
# shards first:
#   python tools/data/make_shards.py \
#       configs/_base_/datasets/demo/webvid_pretrain.py data/demo/shards
_base_ = ['./stoavlp_tiny-u8-res112_1xb16-6e_demo-pretrain.py']

train_dataloader = dict(
    sampler=None,
    dataset=dict(
        _delete_=True,
        type='VideoTextShardDataset',
        data_root='data/demo/shards',
        shuffle_buffer=256,
        pipeline={{_base_.train_dataloader.dataset.pipeline}}))
