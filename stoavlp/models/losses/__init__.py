from .asp import ASPLoss
from .hungarian import hungarian_match
from .mlm import MLMLoss
from .ota import OTALoss
from .plm import PLMLoss
from .region_word import RegionWordLoss
from .set_alignment import SetAlignmentLoss
from .vtc import VTCLoss
from .vtm import VTMLoss

__all__ = [
    'ASPLoss', 'MLMLoss', 'OTALoss', 'PLMLoss', 'RegionWordLoss', 'SetAlignmentLoss',
    'VTCLoss', 'VTMLoss', 'hungarian_match'
]
