# webvid_pretrain on the embedded demo data (tools/data/make_demo_dataset.py):
# the WebVid preset of VideoTextDataset on the demo's WebVid csv.
_base_ = ['../webvid_pretrain.py']

data_root = 'data/demo'
data_prefix = dict(video='videos', objects='objects')

train_dataloader = dict(
    num_workers=2,
    dataset=dict(ann_file='webvid/demo_train.csv', data_root=data_root,
                 data_prefix=data_prefix))
