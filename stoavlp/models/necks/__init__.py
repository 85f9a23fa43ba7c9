from .action_encoder import ActionEncoder
from .fusion_encoder import FusionEncoder
from .roi_layers import MMCVRoIAlign, TorchvisionRoIAlign
from .trajectory_encoder import TrajectoryEncoder

__all__ = [
    'ActionEncoder', 'FusionEncoder', 'MMCVRoIAlign', 'TorchvisionRoIAlign',
    'TrajectoryEncoder'
]
