"""Heads: each owns one objective (``loss(features, data_samples)``)."""
from .lm_head import TiedLMHead
from .lm_readout import BlankSlotReadout, CachedCaptionSteps, PrefixLMReadout
from .matching_head import VTMHead, VTMLinearHead
from .mlm_head import MLMHead
from .plm_head import CaptionHead, PLMHead
from .qa_head import BaseQAHead, QAClassifierHead, QAFirstTokenHead

__all__ = [
    'BaseQAHead', 'BlankSlotReadout', 'CachedCaptionSteps', 'CaptionHead',
    'MLMHead', 'PLMHead', 'PrefixLMReadout', 'QAClassifierHead',
    'QAFirstTokenHead', 'TiedLMHead', 'VTMHead', 'VTMLinearHead'
]
