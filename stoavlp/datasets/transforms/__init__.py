from .clip_range import ClipRange
from .detect import DetectObjects
from .formatting import PackVideoTextInputs
from .objects import (LoadObjectDetections, ProjectObjectBoxes,
                      select_frame_objects)
from .text import MatchObjectNouns, TokenizeText
from .torchcodec import TorchCodecDecode, TorchCodecInit

__all__ = [
    'ClipRange', 'DetectObjects', 'LoadObjectDetections',
    'PackVideoTextInputs', 'ProjectObjectBoxes',
    'TokenizeText', 'MatchObjectNouns', 'select_frame_objects',
    'TorchCodecDecode', 'TorchCodecInit'
]
