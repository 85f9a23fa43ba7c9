from .bad_sample_hook import BadSampleHook
from .export_clip_hook import ExportCLIPHook
from .loss_curves_hook import LossCurvesHook
from .metric_curves_hook import MetricCurvesHook
from .rng_state_hook import RNGStateHook
from .shard_epoch_hook import ShardEpochHook
from .visualization_hook import VideoTextVisualizationHook

__all__ = ['BadSampleHook', 'ExportCLIPHook', 'LossCurvesHook',
           'MetricCurvesHook', 'RNGStateHook', 'ShardEpochHook',
           'VideoTextVisualizationHook']
