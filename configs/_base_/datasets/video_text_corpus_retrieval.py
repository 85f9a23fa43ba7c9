# Zero-shot text-video retrieval on your own corpus: VideoTextDataset in
# test mode gives one item per video (or clip) whose texts are the captions
# of all its rows, ranked with the retrieval protocol
# (video_text_retrieval.py). It points at the demo's MSR-VTT 1k-A-style csv
# (columns video_id, sentence) so that it runs as it is: set data_root,
# ann_file and columns to yours (video_text_corpus.py lists the options).
_base_ = ['./video_text_retrieval.py']

corpus = dict(
    type='VideoTextDataset',
    data_root='data/demo',
    data_prefix=dict(video='videos', objects='objects'),
    columns=dict(video='video_id', caption='sentence'))

train_dataloader = None
val_dataloader = None
val_cfg = val_evaluator = None
test_dataloader = dict(dataset=dict(corpus,
                                    ann_file='MSRVTT_JSFUSION_test.csv'))
