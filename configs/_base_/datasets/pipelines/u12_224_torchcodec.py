# The paper's input (u12_224.py) decoded with torchcodec instead of decord:
# the two decord steps swapped, every other step u12_224.py's.
_base_ = ['./u12_224.py']


def torchcodec(pipeline):
    swap = dict(DecordInit=dict(type='TorchCodecInit'),
                DecordDecode=dict(type='TorchCodecDecode'))
    return [swap.get(step.type, step) for step in pipeline]


train_pipeline = torchcodec(_base_.train_pipeline)
val_pipeline = test_pipeline = torchcodec(_base_.test_pipeline)
