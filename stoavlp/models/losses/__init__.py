from .asp import ASPLoss
from .hungarian import hungarian_match
from .lm import MLMLoss, PLMLoss, TokenCrossEntropyLoss
from .ota import OTALoss
from .region_word import RegionWordLoss
from .set_alignment import SetAlignmentLoss
from .vtc import VTCLoss
from .vtm import VTMLoss

__all__ = [
    'ASPLoss', 'MLMLoss', 'OTALoss', 'PLMLoss', 'RegionWordLoss',
    'SetAlignmentLoss', 'TokenCrossEntropyLoss', 'VTCLoss', 'VTMLoss',
    'hungarian_match'
]
