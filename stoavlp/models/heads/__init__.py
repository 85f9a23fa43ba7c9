from .lm_head import TiedLMHead
from .lm_readout import BlankSlotReadout, PrefixLMReadout
from .matching_head import VTMHead, VTMLinearHead
from .qa_head import QAClassifierHead, QAFirstTokenHead

__all__ = ['BlankSlotReadout', 'PrefixLMReadout', 'QAClassifierHead', 'QAFirstTokenHead', 'TiedLMHead', 'VTMHead',
           'VTMLinearHead']
