from .bad_sample_hook import BadSampleHook
from .loss_curves_hook import LossCurvesHook
from .rng_state_hook import RNGStateHook

__all__ = ['BadSampleHook', 'LossCurvesHook', 'RNGStateHook']
