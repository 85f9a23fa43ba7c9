# Open-ended QA: an [ANSWER] slot after the question, classified over the
# most frequent training answers (the dataset config's answer_vocab). The
# official first-BPE-token mode: qa_head=dict(type='QAFirstTokenHead',
# width=512, lm_head=dict(type='TiedLMHead', width=512)).
_base_ = ['./stoavlp_vit-b16.py']

model = dict(
    type='STOAVLPQuestionAnswerer',
    video_encoder=dict(backbone=dict(pretrained=None)),
    text_encoder=dict(pretrained=None))
