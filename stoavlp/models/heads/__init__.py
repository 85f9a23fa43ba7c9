from .lm_head import TiedLMHead
from .matching_head import VTMHead
from .qa_head import QAClassifierHead, QAFirstTokenHead

__all__ = ['QAClassifierHead', 'QAFirstTokenHead', 'TiedLMHead', 'VTMHead']
