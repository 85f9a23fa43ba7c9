# msrvtt_mc on the embedded demo data (tools/data/make_demo_dataset.py).
_base_ = ['../msrvtt_mc.py']

data_root = 'data/demo'
data_prefix = dict(video='videos', objects='objects')
dataset = dict(data_root=data_root, data_prefix=data_prefix)

test_dataloader = dict(num_workers=2, dataset=dataset)
