"""Open-ended video question answering.

Letters: B batch, L question length, D joint width, A answer classes.
"""
from typing import Dict, List, Optional

import torch

from stoavlp.registry import MODELS
from .base import VideoTextModel


@MODELS.register_module()
class STOAVLPQuestionAnswerer(VideoTextModel):
    """The QA head fuses ``[video side, question, [ANSWER]]`` and
    classifies the [ANSWER] slot.

    Args:
        qa_head (dict): ``QAClassifierHead`` (the dataset's answer
            vocabulary) or ``QAFirstTokenHead`` (official first-BPE-token
            mode).
        **kwargs: The encoders, see :class:`VideoTextModel`.

    Attributes:
        dataset_meta (dict, optional): The training dataset's metainfo
            (``answers``: the class names); ``stoavlp.apis.init_model`` sets
            it from the checkpoint. Without it, predictions carry the class
            index and the metric names it.
    """

    def __init__(self, qa_head: dict, **kwargs) -> None:
        super().__init__(**kwargs)
        self._require('fusion_encoder')
        self.qa_head = MODELS.build(qa_head)
        self.dataset_meta: Optional[dict] = None

    def loss(self, inputs: torch.Tensor,
             data_samples: List) -> Dict[str, torch.Tensor]:
        """``loss_qa`` of a batch of (video, question) samples with
        ``answer_label`` (classifier) or ``answer`` (first token)."""
        features = self.extract_features(inputs, data_samples)
        return dict(loss_qa=self.qa_head.loss(features, data_samples))

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor, data_samples: List,
                num_scores: int = 5) -> List:
        """Sets ``pred_label`` (class index), ``pred_score (A,)``
        (probabilities) and, when the classes have names (the first-token
        head; the classifier with ``dataset_meta``), ``pred_answer`` (str)
        and ``answer_scores`` (the ``num_scores`` most probable answers,
        ``{answer: probability}``, best first)."""
        features = self.extract_features(inputs, data_samples)
        probs = self.qa_head.logits(features).float().softmax(-1)
        top = probs.topk(min(num_scores, probs.shape[-1]), dim=-1)
        answers = (self.dataset_meta or {}).get('answers')
        named = answers is not None or not self.qa_head.needs_answer_names
        for i, sample in enumerate(data_samples):
            index = top.indices[i].tolist()
            sample.set_field(index[0], 'pred_label', field_type='metainfo')
            sample.set_field(probs[i], 'pred_score')
            if named:
                names = self.qa_head.label_names(index, answers)
                sample.set_field(names[0], 'pred_answer',
                                 field_type='metainfo')
                sample.set_field(dict(zip(names, top.values[i].tolist())),
                                 'answer_scores', field_type='metainfo')
        return data_samples
