"""Open-ended video QA: video + question -> answer."""
from typing import List, Sequence, Union

from .base import BaseVideoInferencer, list_videos, per_video


class VideoQAInferencer(BaseVideoInferencer):
    """Answer questions about videos with a ``STOAVLPQuestionAnswerer``
    (answer-vocabulary or first-token head).

    Call with ``(videos, questions)``: one question for every video, or one
    question per video.

    Examples:
        >>> from stoavlp.apis import VideoQAInferencer
        >>> qa = VideoQAInferencer(CONFIG, CHECKPOINT)
        >>> qa('a.mp4', 'what is moving left?')['predictions'][0]
        {'video': 'a.mp4', 'question': ..., 'answer': 'circle',
         'scores': {'circle': 0.61, ...}}

    See :class:`BaseVideoInferencer` for inputs, objects and errors.
    """
    preprocess_kwargs = {'questions'}
    forward_kwargs = {'num_scores'}

    def __call__(self, inputs, questions: Union[str, Sequence[str]],
                 return_datasamples: bool = False, batch_size: int = 1,
                 **kwargs) -> dict:
        return super().__call__(inputs, return_datasamples, batch_size,
                                questions=questions, **kwargs)

    def _check_model(self) -> None:
        if not hasattr(self.model, 'qa_head'):
            raise TypeError(f'{type(self.model).__name__} is not a QA model '
                            '(STOAVLPQuestionAnswerer)')
        if self.model.qa_head.needs_answer_names and \
                not (self.model.dataset_meta or {}).get('answers'):
            raise ValueError(
                'the QA model names no answers: load it from a checkpoint '
                'the Runner saved (its meta.dataset_meta["answers"]) or set '
                'model.dataset_meta = dict(answers=[...])')

    def jobs(self, inputs, questions: Union[str, Sequence[str]] = ''
             ) -> List[tuple]:
        videos = list_videos(inputs)
        # the question is the item's text
        return list(zip(videos, per_video(questions, videos, 'questions')))

    def forward(self, batch: dict, num_scores: int = 5) -> list:
        return super().forward(batch, num_scores=num_scores)

    def pred_to_dict(self, sample) -> dict:
        return dict(video=sample.filename, question=sample.text,
                    answer=sample.pred_answer,
                    scores=dict(sample.answer_scores))
