"""Captioning references for tests and benchmarks.

Letters: Z live sequences (B x beams), L text so far, V vocabulary.
"""
from typing import Dict

import torch

from stoavlp.models.heads.lm_readout import CachedCaptionSteps


class RecomputedCaptionSteps(CachedCaptionSteps):
    """Decoding without caches: every step re-encodes the whole text so
    far and re-fuses the whole sequence through the caption head's
    read-out (what decoding without a cache costs). Same logits as the
    read-out's cached steps; pass it as ``generate(steps=...)``."""

    def init_state(self) -> Dict:
        return dict(tokens=None, video=self.video_seq, text=[], fusion=[],
                    mask=self.video_seq.mask)

    def step(self, state: Dict, tokens: torch.Tensor) -> torch.Tensor:
        """Next-token logits ``(Z, V)`` after ``tokens (Z,)``."""
        encoders = self.encoders
        ids = tokens[:, None] if state['tokens'] is None else torch.cat(
            [state['tokens'], tokens[:, None]], 1)
        state['tokens'] = ids
        mask = torch.ones_like(ids)
        text = encoders.encode_text(ids, mask)['token_features']
        fused = encoders.caption_head.readout.fuse(
            encoders, state['video'], text, mask, torch.ones_like(ids[:, 0]))
        return encoders.token_logits(fused[:, -1])

    @staticmethod
    def reorder(state: Dict, index: torch.Tensor) -> Dict:
        if state['tokens'] is not None:
            state['tokens'] = state['tokens'].index_select(0, index)
        return CachedCaptionSteps.reorder(state, index)
