from .action_encoder import ActionEncoder
from .fusion_encoder import FusionEncoder
from .trajectory_encoder import TrajectoryEncoder

__all__ = ['ActionEncoder', 'FusionEncoder', 'TrajectoryEncoder']
