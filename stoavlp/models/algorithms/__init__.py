from .base import VideoTextModel
from .caption import STOAVLPCaptioner
from .pretrain import STOAVLPPretrainer
from .qa import STOAVLPQuestionAnswerer
from .retrieval import STOAVLPRetriever

__all__ = [
    'STOAVLPCaptioner', 'STOAVLPPretrainer', 'STOAVLPQuestionAnswerer',
    'STOAVLPRetriever', 'VideoTextModel'
]
