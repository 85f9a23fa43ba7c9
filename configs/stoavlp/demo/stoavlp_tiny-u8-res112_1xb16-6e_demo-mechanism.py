# The mechanism of the demo pre-trained model on the 72 demo test clips
# (their multiple-choice items: the true caption, three one-attribute edits,
# one caption of another clip): OTA assignment accuracy, ASP verb coverage,
# VTM against random captions and one-attribute edits, and linear probes
# fitted on the 224 training clips; each beside its chance level. The main job runs it with tools/test.py on the
# pre-training checkpoint.
_base_ = ['./stoavlp_tiny-u8-res112_1xb16-6e_demo-pretrain.py']

# the test clips' items, and every training clip's to fit the probes on
test_dataloader = dict(
    _delete_=True,
    batch_size=16, num_workers=2, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ConcatDataset', datasets=[
        dict(type='MSRVTTMCDataset', ann_file=f'msrvtt_mc/msrvtt_mc_{split}'
             '.json', data_root='data/demo',
             data_prefix=dict(video='videos', objects='objects'),
             pipeline={{_base_.demo_test_pipeline}}, test_mode=True)
        for split in ('test', 'train')]))
test_evaluator = dict(type='PretrainMechanismMetric',
                      meta_file='data/demo/meta.json', probe_split='train')
test_cfg = dict(type='TestLoop')
