"""Open-ended QA heads on the fused [ANSWER] slot.

Letters: B batch, C fusion width, A answer classes, V BPE vocabulary.
"""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from stoavlp.datasets.answer_vocab import build_answer_vocab
from stoavlp.registry import MODELS, TOKENIZERS
from ..utils.distributed import global_mean


@MODELS.register_module()
class QAClassifierHead(BaseModule):
    """Classify the [ANSWER] slot over the most frequent training answers.

    The answer vocabulary is the one the dataset labels with (same
    ``answer_vocab`` dict in the config). Samples whose answer is outside it
    (label -1) are ignored by the loss and count as wrong in evaluation.

    Args:
        width (int): C.
        answer_vocab (dict): ``dict(ann_file=..., size=...)`` (paths as
            given; relative ones from the working directory).
        dropout (float): Defaults to 0.1.
        loss_weight (float): Defaults to 1.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self, width: int, answer_vocab: dict, dropout: float = 0.1,
                 loss_weight: float = 1.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.answers = build_answer_vocab(answer_vocab['ann_file'],
                                          answer_vocab['size'])
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(width, 2 * width), nn.GELU(),
            nn.LayerNorm(2 * width), nn.Linear(2 * width, len(self.answers)))
        self.loss_weight = loss_weight

    def loss(self, slot: torch.Tensor, data_samples: Sequence,
             token_embedding: torch.Tensor) -> torch.Tensor:
        """Cross entropy of ``slot (B, C)`` against ``answer_label``."""
        labels = torch.stack([s.answer_label for s in data_samples]).to(
            slot.device).long()
        logits = self.classifier(slot).float()
        # mean over the questions with an in-vocabulary answer, globally
        total = F.cross_entropy(logits, labels, ignore_index=-1,
                                reduction='sum')
        return self.loss_weight * global_mean(total, (labels >= 0).sum())

    def logits(self, slot: torch.Tensor,
               token_embedding: torch.Tensor) -> torch.Tensor:
        """``(B, A)`` answer logits of ``slot (B, C)``."""
        return self.classifier(slot)

    def label_names(self, index: Sequence[int]) -> List[str]:
        """Answer strings of class indices."""
        return [self.answers[i] for i in index]

    def predict(self, slot: torch.Tensor,
                token_embedding: torch.Tensor) -> List[str]:
        """The answer string of each ``slot (B, C)``."""
        return self.label_names(
            self.logits(slot, token_embedding).argmax(-1).tolist())


@MODELS.register_module()
class QAFirstTokenHead(BaseModule):
    """The official mode: the [ANSWER] slot predicts the answer's first BPE
    token over the whole CLIP vocabulary through the tied LM head.

    A multi-token answer can then only be right by its first token; in
    evaluation the predicted token is compared with the whole answer (so
    such answers count as wrong, unlike the official accuracy, which compared
    first tokens).

    Args:
        lm_head (dict): A ``TiedLMHead`` config (its MLM/PLM losses unused).
        tokenizer (dict): Defaults to ``dict(type='CLIPTokenizer')``.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self, lm_head: dict, tokenizer: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.lm_head = MODELS.build(
            dict(lm_head, mlm_loss=None, plm_loss=None))
        self.tokenizer = TOKENIZERS.build(tokenizer
                                          or dict(type='CLIPTokenizer'))

    def first_tokens(self, answers: Sequence[str]) -> torch.Tensor:
        """``(B,)`` first BPE token id of each answer."""
        pieces = self.tokenizer.encode_pieces(list(answers))
        return torch.tensor([ids[0] if len(ids) else
                             self.tokenizer.eot_token_id
                             for ids, _ in pieces])

    def loss(self, slot: torch.Tensor, data_samples: Sequence,
             token_embedding: torch.Tensor) -> torch.Tensor:
        targets = self.first_tokens([s.answer for s in data_samples])
        logits = self.lm_head(slot, token_embedding).float()
        return F.cross_entropy(logits, targets.to(slot.device))

    def logits(self, slot: torch.Tensor,
               token_embedding: torch.Tensor) -> torch.Tensor:
        """``(B, V)`` first-token logits of ``slot (B, C)``."""
        return self.lm_head(slot, token_embedding)

    def label_names(self, index: Sequence[int]) -> List[str]:
        """The BPE tokens of vocabulary indices, as text."""
        return [self.tokenizer.decode([int(i)]).strip() for i in index]

    def predict(self, slot: torch.Tensor,
                token_embedding: torch.Tensor) -> List[str]:
        return self.label_names(
            self.logits(slot, token_embedding).argmax(-1).tolist())
