# video_text_loaders.py with the retrieval protocol, the base of every
# retrieval dataset config: RetrievalLoop caches the features of the whole
# split, then ranks texts->videos and videos->texts; RetrievalRecall reports
# R@K, MdR and MnR. Retrieval datasets test on their validation split (each
# writes test_dataloader = val_dataloader once val is filled in).
_base_ = ['./video_text_loaders.py']

val_cfg = dict(type='RetrievalLoop', stage='val')
test_cfg = dict(type='RetrievalLoop', stage='test')
val_evaluator = dict(type='RetrievalRecall')
test_evaluator = val_evaluator
