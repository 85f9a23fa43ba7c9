# DiDeMo paragraph-to-video retrieval (8k train videos, 1k test). Paragraphs
# are long: 64 text tokens (official max_words 64), the one change to the
# paper's pipelines (pipelines/u12_224.py).
_base_ = ['./video_text_retrieval.py']

dataset_type = 'DiDeMoRetrievalDataset'
data_root = 'data/didemo'
data_prefix = dict(video='videos', objects='objects')

text_length = 64
text_transform = dict(
    _base_.text_transform,
    tokenizer=dict(type='CLIPTokenizer', max_length=text_length))


def long_text(pipeline):
    return [text_transform if step.type == 'TokenizeText' else step
            for step in pipeline]


train_pipeline = long_text(_base_.train_pipeline)
val_pipeline = test_pipeline = long_text(_base_.test_pipeline)

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='train_data.json',
        list_file='train_list.txt',
        data_root=data_root,
        data_prefix=data_prefix,
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='test_data.json',
        list_file='test_list.txt',
        data_root=data_root,
        data_prefix=data_prefix,
        pipeline=val_pipeline))
test_dataloader = val_dataloader
