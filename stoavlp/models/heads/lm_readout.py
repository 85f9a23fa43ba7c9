"""Where the language-model head reads its next-token predictions.

Letters: B batch, N live sequences, Lv video-side tokens, L text length,
D joint width.

Both read-outs give ``(B, L, D)`` fused outputs where position ``p``
predicts token ``p + 1``, so the PLM / caption losses and the LM head are
the same for either; :meth:`caption_steps` gives the matching cached
decoder. ``TiedLMHead(readout=...)`` chooses.
"""
from typing import Dict

import torch

from stoavlp.registry import MODELS
from ..necks.fusion_encoder import TEXT


@MODELS.register_module()
class PrefixLMReadout:
    """SimVLM's prefix LM (what the paper cites; stoavlp's default).

    The video side and text positions ``< split`` attend to each other,
    later text positions are causal, and token ``p + 1`` is read at text
    position ``p``. One fusion pass.
    """

    def fuse(self, model, video_seq: tuple, text_tokens: torch.Tensor,
             text_keep: torch.Tensor, split: torch.Tensor) -> torch.Tensor:
        """``(B, L, D)``: position p's output predicts token p + 1."""
        _, fused_text = model.fuse(video_seq, text_tokens, text_keep,
                                   mode='prefix_lm', text_prefix=split)
        return fused_text

    def caption_steps(self, model, video_seq: tuple):
        from ..algorithms.caption import CachedCaptionSteps
        return CachedCaptionSteps(model, video_seq)


def blank_slot_mask(num_video: int, length: int,
                    device=None) -> torch.Tensor:
    """``(1, 1, Lv + 2L, Lv + 2L)`` attention of the official read-out over
    ``[video (Lv), text (L), blanks (L)]``: video sees video; text ``j``
    sees the video and text ``<= j``; blank ``p`` sees the video, text
    ``<= p`` and itself; nothing sees a blank."""
    n = num_video + 2 * length
    mask = torch.zeros(n, n, dtype=torch.bool, device=device)
    mask[:num_video, :num_video] = True
    causal = torch.ones(length, length, dtype=torch.bool,
                        device=device).tril()
    text = slice(num_video, num_video + length)
    blank = slice(num_video + length, n)
    mask[num_video:, :num_video] = True
    mask[text, text] = causal
    mask[blank, text] = causal
    mask[blank, blank] = torch.eye(length, dtype=torch.bool, device=device)
    return mask[None, None]


@MODELS.register_module()
class BlankSlotReadout:
    """The official release's read-out (UniVL style), for its checkpoints.

    The official code predicts token ``p + 1`` in a separate fusion pass
    over ``[video, t_0..t_p, blank]``: the video attends only to the video,
    the text is causal, and the blank slot (a zero vector at position
    ``p + 1``) reads the prediction. All L - 1 passes are one pass here:
    the blanks are appended as their own segment, each attending to what
    its pass would show it (:func:`blank_slot_mask`), and no token attends
    to a blank, so text and video outputs equal every pass's.
    ``split`` only chooses the predicted positions (the official text is
    causal everywhere).
    """

    def fuse(self, model, video_seq: tuple, text_tokens: torch.Tensor,
             text_keep: torch.Tensor, split: torch.Tensor) -> torch.Tensor:
        """``(B, L, D)`` blank outputs: blank p predicts token p + 1."""
        tokens, types, keep = video_seq
        b, length = text_tokens.shape[:2]
        lv = tokens.shape[1]
        device = tokens.device
        text_types = types.new_full((2 * length, ), TEXT)
        positions = torch.cat([
            torch.arange(lv + length, device=device),
            lv + 1 + torch.arange(length, device=device)])
        hidden = model.fusion_encoder(
            torch.cat([tokens, text_tokens.to(tokens.dtype),
                       tokens.new_zeros(b, length, tokens.shape[-1])], 1),
            torch.cat([types, text_types]),
            torch.cat([keep, text_keep.bool(), text_keep.bool()], 1),
            mode='masked', attn_mask=blank_slot_mask(lv, length, device),
            positions=positions)
        return hidden[:, lv + length:]

    def caption_steps(self, model, video_seq: tuple):
        return BlankSlotCaptionSteps(model, video_seq)


class BlankSlotCaptionSteps:
    """Cached decoding with the official read-out: the video side is fused
    once (it sees only itself); each step fuses the new token (cached) and
    a blank after it (read, then dropped from the caches).

    Args:
        model (STOAVLPCaptioner): Supplies the encoders and the LM head.
        video_seq (tuple): ``(tokens (B, Lv, D), types (Lv,), keep (B, Lv))``.
    """

    def __init__(self, model, video_seq: tuple) -> None:
        self.model = model
        self.video_seq = video_seq

    def init_state(self) -> Dict:
        model = self.model
        n_text = len(model.text_encoder.transformer.resblocks)
        n_fusion = len(model.fusion_encoder.transformer.resblocks)
        tokens, types, keep = self.video_seq
        fusion = [{} for _ in range(n_fusion)]
        model.fusion_encoder(tokens, types, keep, caches=fusion)
        return dict(text=[{} for _ in range(n_text)], fusion=fusion,
                    video=self.video_seq, keep=keep, position=0)

    def step(self, state: Dict, tokens: torch.Tensor) -> torch.Tensor:
        """Next-token logits ``(N, V)`` after ``tokens (N,)``."""
        model, position = self.model, state['position']
        feature = model.text_encoder.forward_step(
            tokens[:, None], position, state['text'])  # (N, 1, D)
        n, cached = len(tokens), state['keep'].shape[1]
        keep = torch.cat([state['keep'], state['keep'].new_ones(n, 2)], 1)
        mask = keep[:, None, None, :].repeat(1, 1, 2, 1)  # (N, 1, 2, c + 2)
        mask[:, :, 0, -1] = False  # the token does not see the blank
        hidden = model.fusion_encoder.forward_cached(
            torch.cat([feature, torch.zeros_like(feature)], 1),
            torch.full((2, ), TEXT, device=tokens.device),
            torch.arange(cached, cached + 2, device=tokens.device), mask,
            state['fusion'])
        for cache in state['fusion']:  # forget the blank
            cache['k'], cache['v'] = cache['k'][:, :, :-1], \
                cache['v'][:, :, :-1]
        state['keep'], state['position'] = keep[:, :-1], position + 1
        return model.lm_head(hidden[:, 1],
                             model.text_encoder.token_embedding.weight)

    @staticmethod
    def reorder(state: Dict, index: torch.Tensor) -> Dict:
        from ..algorithms.caption import CachedCaptionSteps
        return CachedCaptionSteps.reorder(state, index)
