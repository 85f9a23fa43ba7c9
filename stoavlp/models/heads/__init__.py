from .lm_head import TiedLMHead
from .matching_head import VTMHead

__all__ = ['TiedLMHead', 'VTMHead']
