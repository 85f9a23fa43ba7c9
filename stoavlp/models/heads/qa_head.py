"""Open-ended QA heads on the fused [ANSWER] slot.

Letters: B batch, L question length, C fusion width, A answer classes,
V BPE vocabulary.
"""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from stoavlp.registry import MODELS, TOKENIZERS
from ..utils.distributed import global_mean
from ..utils.features import VideoTextFeatures


class BaseQAHead(BaseModule):
    """The [ANSWER] slot: a learned token after the question (as the
    official release); the fusion encoder reads ``[video side, question,
    [ANSWER]]`` bidirectionally and the head classifies the slot's output.

    Args:
        width (int): C.
        init_cfg (dict, optional): mmengine init config.
    """

    #: Whether the class names come from the dataset (``answers`` of
    #: :meth:`label_names`) rather than from the head itself.
    needs_answer_names = False

    def __init__(self, width: int, init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.answer_slot = nn.Parameter(torch.randn(width) * 0.02)

    def slot_features(self, features: VideoTextFeatures) -> torch.Tensor:
        """``(B, C)`` fused [ANSWER] slot of each (video, question)."""
        question = features.text['token_features']
        b = question.shape[0]
        slot = self.answer_slot.to(question.dtype).expand(b, 1, -1)
        mask = features.attention_mask.bool()
        _, fused_text = features.encoders.fuse(
            features.video_seq, torch.cat([question, slot], 1),
            torch.cat([mask, mask.new_ones(b, 1)], 1))  # (B, L + 1, C)
        return fused_text[:, -1]

    def logits(self, features: VideoTextFeatures) -> torch.Tensor:
        """``(B, A)`` answer logits."""
        raise NotImplementedError

    def label_names(self, index: Sequence[int],
                    answers: Optional[Sequence[str]]) -> List[str]:
        """Answer strings of class indices (``answers``: the dataset's
        vocabulary, ``dataset_meta['answers']``)."""
        raise NotImplementedError


@MODELS.register_module()
class QAClassifierHead(BaseQAHead):
    """Classify the [ANSWER] slot over the most frequent training answers.

    The vocabulary is the dataset's (``answer_vocab`` of the QA dataset,
    which labels each question with its class and names the classes in its
    ``metainfo['answers']``; MMEngine saves that in checkpoints as
    ``meta.dataset_meta``). Samples whose answer is outside it (label -1)
    are ignored by the loss and count as wrong in evaluation.

    Args:
        width (int): C.
        num_classes (int): A, the size of the dataset's answer vocabulary.
        dropout (float): Defaults to 0.1.
        loss_weight (float): Defaults to 1.
        init_cfg (dict, optional): mmengine init config.
    """

    needs_answer_names = True

    def __init__(self, width: int, num_classes: int, dropout: float = 0.1,
                 loss_weight: float = 1.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(width, init_cfg=init_cfg)
        self.num_classes = num_classes
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(width, 2 * width), nn.GELU(),
            nn.LayerNorm(2 * width), nn.Linear(2 * width, num_classes))
        self.loss_weight = loss_weight

    def logits(self, features: VideoTextFeatures) -> torch.Tensor:
        return self.classifier(self.slot_features(features))

    def loss(self, features: VideoTextFeatures,
             data_samples: Sequence) -> torch.Tensor:
        """Cross entropy against each sample's ``answer_label``."""
        logits = self.logits(features).float()
        labels = torch.stack([torch.as_tensor(s.answer_label)
                              for s in data_samples]).to(logits.device).long()
        if int(labels.max()) >= self.num_classes:
            raise ValueError(
                f'answer_label {int(labels.max())} >= num_classes '
                f'{self.num_classes}: the head and the dataset\'s '
                'answer_vocab disagree in size')
        # mean over the questions with an in-vocabulary answer, globally
        total = F.cross_entropy(logits, labels, ignore_index=-1,
                                reduction='sum')
        return self.loss_weight * global_mean(total, (labels >= 0).sum())

    def label_names(self, index: Sequence[int],
                    answers: Optional[Sequence[str]]) -> List[str]:
        if answers is None:
            raise ValueError(
                'the answer vocabulary is unknown: build the model with '
                'stoavlp.apis.init_model from a checkpoint the Runner saved '
                '(its meta.dataset_meta["answers"]) or set '
                'model.dataset_meta = dataset.metainfo')
        if len(answers) != self.num_classes:
            raise ValueError(f'{len(answers)} answers for a head of '
                             f'{self.num_classes} classes')
        return [answers[i] for i in index]


@MODELS.register_module()
class QAFirstTokenHead(BaseQAHead):
    """The official mode: the [ANSWER] slot predicts the answer's first BPE
    token over the whole CLIP vocabulary through a tied LM head.

    A multi-token answer can then only be right by its first token; in
    evaluation the predicted token is compared with the whole answer (so
    such answers count as wrong, unlike the official accuracy, which compared
    first tokens).

    Args:
        width (int): C.
        lm_head (dict): A ``TiedLMHead`` config (its own, not the
            algorithm's).
        tokenizer (dict): Defaults to ``dict(type='CLIPTokenizer')``.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self, width: int, lm_head: dict,
                 tokenizer: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(width, init_cfg=init_cfg)
        self.lm_head = MODELS.build(lm_head)
        self.tokenizer = TOKENIZERS.build(tokenizer
                                          or dict(type='CLIPTokenizer'))

    def first_tokens(self, answers: Sequence[str]) -> torch.Tensor:
        """``(B,)`` first BPE token id of each answer."""
        pieces = self.tokenizer.encode_pieces(list(answers))
        return torch.tensor([ids[0] if len(ids) else
                             self.tokenizer.eot_token_id
                             for ids, _ in pieces])

    def logits(self, features: VideoTextFeatures) -> torch.Tensor:
        """``(B, V)`` first-token logits."""
        return self.lm_head(
            self.slot_features(features),
            features.encoders.text_encoder.token_embedding.weight)

    def loss(self, features: VideoTextFeatures,
             data_samples: Sequence) -> torch.Tensor:
        logits = self.logits(features).float()
        targets = self.first_tokens([s.answer for s in data_samples])
        return F.cross_entropy(logits, targets.to(logits.device))

    def label_names(self, index: Sequence[int],
                    answers: Optional[Sequence[str]] = None) -> List[str]:
        """The BPE tokens of vocabulary indices, as text."""
        return [self.tokenizer.decode([int(i)]).strip() for i in index]
