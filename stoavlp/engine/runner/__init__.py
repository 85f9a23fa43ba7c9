from .retrieval_loop import RetrievalLoop, batch_features, rank_with_model
from .train_loop import ResumableEpochBasedTrainLoop

__all__ = [
    'ResumableEpochBasedTrainLoop', 'RetrievalLoop', 'batch_features',
    'rank_with_model'
]
