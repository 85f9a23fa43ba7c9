# lsmdc_retrieval on the embedded demo data (tools/data/make_demo_dataset.py).
_base_ = ['../lsmdc_retrieval.py']

data_root = 'data/demo/lsmdc'
data_prefix = dict(video='../videos', objects='../objects')
dataset = dict(video_ext='.mp4', nested_by_movie=False, data_root=data_root, data_prefix=data_prefix)

train_dataloader = dict(num_workers=2, dataset=dataset)
val_dataloader = dict(num_workers=2, dataset=dataset)
test_dataloader = val_dataloader
