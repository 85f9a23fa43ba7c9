# Zero-shot retrieval on your own corpus (datasets/video_text_corpus_
# retrieval.py: a VideoTextDataset table, one item per video with all its
# captions), here with the demo pre-trained model
# (stoavlp_tiny-u8-res112_1xb16-6e_demo-pretrain.py) as
# stoavlp_tiny-u8-res112_demo-zeroshot-retrieval.py has it:
#   python tools/test.py THIS_CONFIG work_dirs/demo/pretrain/epoch_6.pth
# For the paper-size model, put the corpus dataset into a copy of a
# configs/retrieval/zeroshot/ config.
_base_ = [
    '../../_base_/models/stoavlp_tiny.py',
    '../../_base_/datasets/video_text_corpus_retrieval.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    type='STOAVLPRetriever',
    vtc_loss=dict(type='VTCLoss'),
    vtm_head=dict(type='VTMLinearHead', width=64),
    rerank_topk=32)

test_dataloader = dict(
    batch_size=16, num_workers=2,
    dataset=dict(pipeline={{_base_.demo_test_pipeline}}))
