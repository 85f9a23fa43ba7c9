from .base import VideoTextModel
from .caption import STOAVLPCaptioner
from .clip_pretrain import CLIPPretrainer
from .pretrain import STOAVLPPretrainer
from .qa import STOAVLPQuestionAnswerer
from .retrieval import STOAVLPMultipleChoice, STOAVLPRetriever

__all__ = [
    'CLIPPretrainer', 'STOAVLPCaptioner', 'STOAVLPMultipleChoice',
    'STOAVLPPretrainer', 'STOAVLPQuestionAnswerer', 'STOAVLPRetriever',
    'VideoTextModel'
]
