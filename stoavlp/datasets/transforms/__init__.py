from .formatting import PackVideoTextInputs
from .objects import (LoadObjectDetections, ProjectObjectBoxes,
                      select_frame_objects)
from .text import TokenizeText

__all__ = [
    'LoadObjectDetections', 'PackVideoTextInputs', 'ProjectObjectBoxes',
    'TokenizeText', 'select_frame_objects'
]
