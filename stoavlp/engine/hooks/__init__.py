from .bad_sample_hook import BadSampleHook

__all__ = ['BadSampleHook']
