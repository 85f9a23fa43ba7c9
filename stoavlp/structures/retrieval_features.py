"""What retrieval ranks: the features of a gallery of videos and texts.

Letters: V videos, S texts (sentences), D joint width, Lv video-side tokens
of the fusion input, L text length.

Produced by every model that ranks (``STOAVLPRetriever.video_features`` /
``text_features``, ``mode='tensor'``), gathered by ``RetrievalLoop`` (or the
inference API's gallery cache) and handed to
:func:`stoavlp.evaluation.functional.retrieval_ranks`; one set of names for
all of them.
"""
from dataclasses import dataclass, fields, replace
from typing import Dict, Optional, Sequence

import torch
from torch import Tensor

#: Per-video rows, per-text rows.
VIDEO_FIELDS = ('video_embed', 'video_tokens', 'video_mask')
TEXT_FIELDS = ('text_embed', 'text_tokens', 'attention_mask', 'eot_index')


@dataclass
class RetrievalFeatures:
    """Ranking features; the fusion inputs are present when the model has a
    VTM head (they feed the re-ranking).

    Attributes:
        video_embed (Tensor): ``(V, D)`` normalised video features.
        text_embed (Tensor): ``(S, D)`` normalised text features.
        text_to_video (Tensor): ``(S,)`` each text's video (its index in
            ``video_embed``), for ground truth; None for free queries.
        video_tokens (Tensor): ``(V, Lv, D)`` the fusion input's video side.
        video_mask (Tensor): ``(V, Lv)`` bool, valid video-side tokens.
        video_types (Tensor): ``(Lv,)`` token types (shared by all videos).
        cls_index (int): Position of the video [CLS] in the video side.
        text_tokens (Tensor): ``(S, L, D)`` text encoder outputs.
        attention_mask (Tensor): ``(S, L)`` valid text tokens.
        eot_index (Tensor): ``(S,)`` position of each text's [EOT].
        sample_idx (Tensor): ``(V,)`` dataset index of each video.
    """
    video_embed: Optional[Tensor] = None
    text_embed: Optional[Tensor] = None
    text_to_video: Optional[Tensor] = None
    video_tokens: Optional[Tensor] = None
    video_mask: Optional[Tensor] = None
    video_types: Optional[Tensor] = None
    cls_index: Optional[int] = None
    text_tokens: Optional[Tensor] = None
    attention_mask: Optional[Tensor] = None
    eot_index: Optional[Tensor] = None
    sample_idx: Optional[Tensor] = None

    @property
    def num_videos(self) -> int:
        return len(self.video_embed)

    @property
    def num_texts(self) -> int:
        return len(self.text_embed)

    @property
    def can_fuse(self) -> bool:
        """Whether the fusion inputs (for VTM re-ranking) are here."""
        return self.video_tokens is not None and self.text_tokens is not None

    def to_dict(self) -> Dict:
        """The fields that are set (tensors and ``cls_index``)."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not None}

    @classmethod
    def from_dict(cls, values: Dict) -> 'RetrievalFeatures':
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise KeyError(f'not retrieval features: {unknown}')
        return cls(**values)

    def map(self, fn) -> 'RetrievalFeatures':
        """Apply ``fn`` to every tensor (e.g. ``lambda t: t.cpu()``)."""
        return replace(self, **{k: fn(v) for k, v in self.to_dict().items()
                                if isinstance(v, Tensor)})

    def with_texts(self, texts: 'RetrievalFeatures') -> 'RetrievalFeatures':
        """These videos with the texts of ``texts`` (free queries or a text
        gallery; ``text_to_video`` is dropped)."""
        return replace(self, text_to_video=None,
                       **{k: getattr(texts, k) for k in TEXT_FIELDS})

    def video_rows(self) -> Dict[str, Tensor]:
        """Per-video tensors (what a gallery cache stores per video)."""
        return {k: getattr(self, k) for k in VIDEO_FIELDS
                if getattr(self, k) is not None}

    @classmethod
    def merge(cls, parts: Sequence['RetrievalFeatures'],
              size: int) -> 'RetrievalFeatures':
        """One test set from per-batch features (of all ranks).

        Each part's ``text_to_video`` indexes its own batch and
        ``sample_idx`` says each video's dataset index. Videos come out
        ordered by sample index; repeats (a distributed sampler's padding)
        and indices ``>= size`` are dropped; ``text_to_video`` then indexes
        the merged videos.
        """
        order, seen = [], set()
        for p, part in enumerate(parts):
            for i, idx in enumerate(part.sample_idx.tolist()):
                if idx not in seen and idx < size:
                    seen.add(idx)
                    order.append((idx, p, i))
        order.sort()
        first = parts[0]
        video_keys = [k for k in VIDEO_FIELDS if getattr(first, k) is not None]
        text_keys = [k for k in TEXT_FIELDS if getattr(first, k) is not None]
        merged = {k: [] for k in video_keys + text_keys}
        text_to_video = []
        for video, (_, p, i) in enumerate(order):
            part = parts[p]
            for key in video_keys:
                merged[key].append(getattr(part, key)[i:i + 1])
            own = part.text_to_video == i
            for key in text_keys:
                merged[key].append(getattr(part, key)[own])
            text_to_video += [video] * int(own.sum())
        return cls(**{k: torch.cat(v) for k, v in merged.items()},
                   text_to_video=torch.tensor(text_to_video, dtype=torch.long),
                   sample_idx=torch.tensor([idx for idx, _, _ in order]),
                   video_types=first.video_types, cls_index=first.cls_index)
