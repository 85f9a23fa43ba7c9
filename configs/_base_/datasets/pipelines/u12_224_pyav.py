# The paper's input (u12_224.py) decoded with PyAV instead of decord: the
# two decord steps swapped, every other step u12_224.py's.
_base_ = ['./u12_224.py']


def pyav(pipeline):
    swap = dict(DecordInit=dict(type='PyAVInit'),
                DecordDecode=dict(type='PyAVDecode', mode='accurate'))
    return [swap.get(step.type, step) for step in pipeline]


train_pipeline = pyav(_base_.train_pipeline)
val_pipeline = test_pipeline = pyav(_base_.test_pipeline)
