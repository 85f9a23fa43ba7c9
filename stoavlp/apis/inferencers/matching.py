"""Video-text matching and multiple choice: video + candidate texts ->
scores."""
from typing import List, Sequence, Union

from .base import BaseVideoInferencer, list_videos, per_video


class VideoTextMatchingInferencer(BaseVideoInferencer):
    """Score candidate texts for videos with a ``STOAVLPRetriever`` (or
    ``STOAVLPMultipleChoice``; ``score_options``): the
    cosine similarity, the VTM ``P(match)`` (with a VTM head) and the
    multiple-choice score evaluation uses, ``softmax(scale * sim over the
    candidates) * P(match)``; the best candidate is the MC answer.

    Call with ``(videos, texts)``: one list of candidates for every video,
    or one list per video.

    See :class:`BaseVideoInferencer` for inputs, objects and errors.
    """

    preprocess_kwargs = {'texts'}

    def __call__(self, inputs, texts: Union[Sequence[str],
                                            Sequence[Sequence[str]]],
                 return_datasamples: bool = False, batch_size: int = 1,
                 **kwargs) -> dict:
        return super().__call__(inputs, return_datasamples, batch_size,
                                texts=texts, **kwargs)

    def _check_model(self) -> None:
        if not hasattr(self.model, 'score_options'):
            raise TypeError(f'{type(self.model).__name__} is not a retrieval '
                            'model (STOAVLPRetriever)')

    def jobs(self, inputs, texts: Sequence = ()) -> List[tuple]:
        videos = list_videos(inputs)
        if not texts:
            raise ValueError('no candidate texts')
        texts = per_video(texts, videos, 'candidate lists',
                          is_one=lambda v: all(isinstance(t, str) for t in v))
        return [(video, list(t)) for video, t in zip(videos, texts)]

    def forward(self, batch: dict, **kwargs) -> list:
        data = self.model.data_preprocessor(batch, False)
        return self.model.score_options(data['inputs'], data['data_samples'])

    def pred_to_dict(self, sample) -> dict:
        out = dict(video=sample.filename, texts=list(sample.text),
                   similarities=sample.similarities.tolist(),
                   scores=sample.mc_scores.tolist(),
                   best=int(sample.pred_label))
        if 'match_probs' in sample:
            out['match_probs'] = sample.match_probs.tolist()
        return out
