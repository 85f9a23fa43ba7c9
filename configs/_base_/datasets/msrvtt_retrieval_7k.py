# MSR-VTT retrieval with the 7k training split (JSFusion protocol).
_base_ = ['./msrvtt_retrieval_9k.py']

train_dataloader = dict(dataset=dict(ann_file='MSRVTT_train.7k.csv'))
