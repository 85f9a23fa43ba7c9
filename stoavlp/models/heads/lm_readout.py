"""Where the language-model heads read their next-token predictions.

Letters: B batch, Z live sequences (B x beams), Lv video-side tokens,
L text length, D joint width, V vocabulary.

Both read-outs give ``(B, L, D)`` fused outputs where position ``p``
predicts token ``p + 1``, so the PLM / caption losses and the LM head are
the same for either; :meth:`caption_steps` gives the matching cached
decoder. ``PLMHead(readout=...)`` / ``CaptionHead(readout=...)`` chooses.
Both talk to the algorithm (``encoders``) through its ``fuse``,
``fusion_encoder``, ``text_encoder`` and ``token_logits``.
"""
from typing import Dict

import torch

from stoavlp.registry import MODELS
from ..necks.fusion_encoder import TEXT
from ..utils.features import VideoSequence


@MODELS.register_module()
class PrefixLMReadout:
    """SimVLM's prefix LM (what the paper cites; stoavlp's default).

    The video side and text positions ``< split`` attend to each other,
    later text positions are causal, and token ``p + 1`` is read at text
    position ``p``. One fusion pass.
    """

    def fuse(self, encoders, video_seq: VideoSequence,
             text_tokens: torch.Tensor, attention_mask: torch.Tensor,
             split: torch.Tensor) -> torch.Tensor:
        """``(B, L, D)``: position p's output predicts token p + 1."""
        _, fused_text = encoders.fuse(video_seq, text_tokens, attention_mask,
                                      mode='prefix_lm', text_prefix=split)
        return fused_text

    def caption_steps(self, encoders, video_seq: VideoSequence):
        return CachedCaptionSteps(encoders, video_seq)


class CachedCaptionSteps:
    """The decoding step protocol over the text and fusion encoders, with
    key/value caches: each step encodes only the new token.

    The prefix is the video side plus the start token (bidirectional, as in
    fine-tuning); later tokens are causal, so cached keys/values never
    change.

    Args:
        encoders (VideoTextModel): The text and fusion encoders and the LM
            head.
        video_seq (VideoSequence): The fusion input's video side.
    """

    def __init__(self, encoders, video_seq: VideoSequence) -> None:
        self.encoders = encoders
        self.video_seq = video_seq

    def init_state(self) -> Dict:
        n_text = len(self.encoders.text_encoder.transformer.resblocks)
        n_fusion = len(self.encoders.fusion_encoder.transformer.resblocks)
        return dict(text=[{} for _ in range(n_text)],
                    fusion=[{} for _ in range(n_fusion)],
                    video=self.video_seq, mask=self.video_seq.mask,
                    position=0)

    def step(self, state: Dict, tokens: torch.Tensor) -> torch.Tensor:
        """Next-token logits ``(Z, V)`` after ``tokens (Z,)``."""
        encoders, position = self.encoders, state['position']
        feature = encoders.text_encoder.forward_step(
            tokens[:, None], position, state['text'])  # (Z, 1, D)
        mask = torch.cat([state['mask'], state['mask'].new_ones(
            len(tokens), 1)], 1)
        if position == 0:  # the prefix: video side + start token, one pass
            video = state['video']
            hidden = encoders.fusion_encoder(
                torch.cat([video.tokens, feature.to(video.tokens.dtype)], 1),
                torch.cat([video.types, video.types.new_tensor([TEXT])]),
                mask, caches=state['fusion'])[:, -1:]
        else:
            hidden = encoders.fusion_encoder.forward_step(
                feature, TEXT, mask.shape[1] - 1, mask, state['fusion'])
        state['mask'], state['position'] = mask, position + 1
        return encoders.token_logits(hidden[:, 0])

    @staticmethod
    def reorder(state: Dict, index: torch.Tensor) -> Dict:
        """Keep / duplicate the sequences ``index (Z',)`` of every cache."""
        for cache in state['text'] + state['fusion']:
            for key in cache:
                cache[key] = cache[key].index_select(0, index)
        state['mask'] = state['mask'].index_select(0, index)
        state['video'] = state['video'].select(index)
        return state


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

    def fuse(self, encoders, video_seq: VideoSequence,
             text_tokens: torch.Tensor, attention_mask: torch.Tensor,
             split: torch.Tensor) -> torch.Tensor:
        """``(B, L, D)`` blank outputs: blank p predicts token p + 1."""
        tokens, types, keep = video_seq.tokens, video_seq.types, \
            video_seq.mask
        b, length = text_tokens.shape[:2]
        lv = tokens.shape[1]
        device = tokens.device
        text_types = types.new_full((2 * length, ), TEXT)
        positions = torch.cat([
            torch.arange(lv + length, device=device),
            lv + 1 + torch.arange(length, device=device)])
        hidden = encoders.fusion_encoder(
            torch.cat([tokens, text_tokens.to(tokens.dtype),
                       tokens.new_zeros(b, length, tokens.shape[-1])], 1),
            torch.cat([types, text_types]),
            torch.cat([keep, attention_mask.bool(), attention_mask.bool()],
                      1),
            mode='masked', attn_mask=blank_slot_mask(lv, length, device),
            positions=positions)
        return hidden[:, lv + length:]

    def caption_steps(self, encoders, video_seq: VideoSequence):
        return BlankSlotCaptionSteps(encoders, video_seq)


class BlankSlotCaptionSteps(CachedCaptionSteps):
    """Cached decoding with the official read-out: the video side is fused
    once (it sees only itself); each step fuses the new token (cached) and
    a blank after it (read, then dropped from the caches).

    Args:
        encoders (VideoTextModel): The text and fusion encoders and the LM
            head.
        video_seq (VideoSequence): The fusion input's video side.
    """

    def init_state(self) -> Dict:
        state = super().init_state()
        video = self.video_seq
        self.encoders.fusion_encoder(video.tokens, video.types, video.mask,
                                     caches=state['fusion'])
        return state

    def step(self, state: Dict, tokens: torch.Tensor) -> torch.Tensor:
        """Next-token logits ``(Z, V)`` after ``tokens (Z,)``."""
        encoders, position = self.encoders, state['position']
        feature = encoders.text_encoder.forward_step(
            tokens[:, None], position, state['text'])  # (Z, 1, D)
        z, cached = len(tokens), state['mask'].shape[1]
        keep = torch.cat([state['mask'], state['mask'].new_ones(z, 2)], 1)
        mask = keep[:, None, None, :].repeat(1, 1, 2, 1)  # (Z, 1, 2, c + 2)
        mask[:, :, 0, -1] = False  # the token does not see the blank
        hidden = encoders.fusion_encoder.forward_cached(
            torch.cat([feature, torch.zeros_like(feature)], 1),
            torch.full((2, ), TEXT, device=tokens.device),
            torch.arange(cached, cached + 2, device=tokens.device), mask,
            state['fusion'])
        for cache in state['fusion']:  # forget the blank
            cache['k'], cache['v'] = cache['k'][:, :, :-1], \
                cache['v'][:, :, :-1]
        state['mask'], state['position'] = keep[:, :-1], position + 1
        return encoders.token_logits(hidden[:, 1])
