from .bad_sample_hook import BadSampleHook
from .rng_state_hook import RNGStateHook

__all__ = ['BadSampleHook', 'RNGStateHook']
