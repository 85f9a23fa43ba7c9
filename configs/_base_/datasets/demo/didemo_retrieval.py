# didemo_retrieval on the embedded demo data (tools/data/make_demo_dataset.py).
_base_ = ['../didemo_retrieval.py']

data_root = 'data/demo/didemo'
data_prefix = dict(video='../videos', objects='../objects')
dataset = dict(data_root=data_root, data_prefix=data_prefix)

train_dataloader = dict(num_workers=2, dataset=dataset)
val_dataloader = dict(num_workers=2, dataset=dataset)
test_dataloader = val_dataloader
