# msvd_caption on the embedded demo data (tools/data/make_demo_dataset.py).
_base_ = ['../msvd_caption.py']

data_root = 'data/demo/msvd'
data_prefix = dict(video='../videos', objects='../objects')
dataset = dict(video_ext='.mp4', data_root=data_root, data_prefix=data_prefix)

# the same change to each split's loader
train_dataloader = val_dataloader = test_dataloader = dict(
    num_workers=2, dataset=dataset)
