"""Model-agnostic autoregressive decoding: greedy and beam search.

:func:`decode` talks to a model only through the :class:`StepModel`
protocol, so it works with any (key/value-cached) text decoder.

Letters: B batch, W beams (the beam width), Z live sequences (``B * W``),
V vocabulary,
L generated length (``<= max_length``).

Conventions shared by greedy and beam search:

- a hypothesis' *length* counts its generated tokens, the end token
  included and the start token excluded;
- its *score* is ``sum_logprob / length ** length_penalty``, where the
  log-probabilities are ``log_softmax`` of the logits after the
  repetition penalty and the ``min_length`` mask.
"""
from typing import Any, Protocol, Tuple, Union

import torch
import torch.nn.functional as F


class StepModel(Protocol):
    """What :func:`decode` needs from a model.

    The state is opaque to the decoder (e.g. the encoder features and one
    key/value cache per layer, all with Z rows). The model builds the state
    of the B samples itself (e.g. ``init_state()``) and passes it to
    :func:`decode`.
    """

    def step(self, state: Any, tokens: torch.Tensor) -> torch.Tensor:
        """Feed one token per live sequence.

        Args:
            state (Any): State of Z sequences; ``step`` updates it in place
                (the caches grow by one position).
            tokens (torch.Tensor): ``(Z,)`` long, the last token of each
                sequence (the start token on the first call).

        Returns:
            torch.Tensor: ``(Z, V)`` next-token logits.
        """

    def reorder(self, state: Any, index: torch.Tensor) -> Any:
        """Select rows: row i of the result is row ``index[i]`` of ``state``.

        Used to expand B samples into ``B * W`` beams (each sample repeated
        W times, adjacently) and to follow the beams after each step; never
        called when ``num_beams == 1``. The decoder only uses the returned
        state afterwards.

        Args:
            state (Any): State of Z sequences.
            index (torch.Tensor): ``(Z',)`` long, may repeat rows.

        Returns:
            Any: State of Z' sequences.
        """


def _log_probs(logits: torch.Tensor, seqs: torch.Tensor, t: int,
               end_token: int, min_length: int,
               repetition_penalty: float) -> torch.Tensor:
    """``(Z, V)`` logits -> ``(Z, V)`` float log-probabilities."""
    # float32 softmax; ``.float()`` may return the model's own tensor, so
    # the edits below are out of place.
    logits = logits.float()
    if repetition_penalty != 1.0 and t > 0:
        # CTRL / HF: divide positive logits, multiply negative ones, so a
        # generated token always becomes less likely.
        prev = seqs[:, :t]  # (Z, t)
        picked = logits.gather(1, prev)
        picked = torch.where(picked > 0, picked / repetition_penalty,
                             picked * repetition_penalty)
        logits = logits.scatter(1, prev, picked)
    if t < min_length:
        logits = logits.clone()
        logits[:, end_token] = float('-inf')
    return F.log_softmax(logits, dim=-1)


def _keep_best(finished: Tuple[torch.Tensor, ...],
               new: Tuple[torch.Tensor, ...]) -> Tuple[torch.Tensor, ...]:
    """Merge ``(scores (B, W), lengths (B, W), seqs (B, W, L))`` tuples and
    keep the W best per sample (existing ones first on ties)."""
    k = finished[0].shape[1]
    best = torch.cat([finished[0], new[0]], 1).topk(k, dim=1).indices
    merged = []
    for old, cand in zip(finished, new):
        index = best if old.dim() == 2 else best[..., None]  # broadcast
        merged.append(
            torch.take_along_dim(torch.cat([old, cand], 1), index, dim=1))
    return tuple(merged)


# decode()'s options a config may set (``decode_cfg``); the rest come from
# the model (step model, state, tokens, device)
DECODE_OPTIONS = dict(max_length=int, min_length=int, num_beams=int,
                      length_penalty=float, repetition_penalty=float,
                      pad_token=int, early_stopping=bool)


def check_decode_cfg(decode_cfg: dict, where: str = 'decode_cfg') -> dict:
    """Validate decoding options when a model is built, not at the first
    test batch; errors name ``where`` and the option.

    Raises:
        ValueError: An unknown option (with the closest known one), a value
            of the wrong type or out of range.
    """
    import difflib
    for key, value in decode_cfg.items():
        if key not in DECODE_OPTIONS:
            close = difflib.get_close_matches(key, DECODE_OPTIONS, n=1)
            hint = f' (did you mean {close[0]!r}?)' if close else ''
            raise ValueError(
                f'{where}: unknown option {key!r}{hint}; options: '
                f'{", ".join(DECODE_OPTIONS)}')
        kind = DECODE_OPTIONS[key]
        ok = isinstance(value, bool) if kind is bool else (
            isinstance(value, (int, float)) and not isinstance(value, bool)
            and (kind is float or float(value).is_integer()))
        if not ok:
            raise ValueError(f'{where}.{key} must be {kind.__name__}, got '
                             f'{value!r}')
    cfg = decode_cfg
    if cfg.get('num_beams', 1) < 1:
        raise ValueError(f'{where}.num_beams must be >= 1, got '
                         f'{cfg["num_beams"]}')
    if 'max_length' in cfg and cfg['max_length'] < 1:
        raise ValueError(f'{where}.max_length must be >= 1, got '
                         f'{cfg["max_length"]}')
    if cfg.get('min_length', 0) < 0 or cfg.get('min_length', 0) > cfg.get(
            'max_length', float('inf')):
        raise ValueError(f'{where}.min_length must be in [0, max_length], '
                         f'got {cfg.get("min_length")}')
    if cfg.get('repetition_penalty', 1.0) <= 0:
        raise ValueError(f'{where}.repetition_penalty must be > 0, got '
                         f'{cfg["repetition_penalty"]}')
    return decode_cfg


@torch.no_grad()
def decode(step_model: StepModel,
           state: Any,
           batch_size: int,
           start_token: int,
           end_token: int,
           max_length: int,
           min_length: int = 0,
           num_beams: int = 1,
           length_penalty: float = 1.0,
           repetition_penalty: float = 1.0,
           pad_token: int = 0,
           early_stopping: bool = False,
           device: Union[str, torch.device] = 'cpu'
           ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Greedy (``num_beams=1``) or beam search decoding.

    Beam search follows HF ``BeamSearchScorer``: each step ranks the
    ``W * V`` extensions of a sample's live beams by summed log-probability
    and takes the top ``2W``; an end-token candidate among the top W ranks
    becomes a finished hypothesis (the W best are kept), and the best W
    other candidates are the new live beams. A sample stops once it has W
    finished hypotheses and, if ``early_stopping`` is False, no live beam
    can still beat the worst of them: since log-probabilities are <= 0, a
    beam's best final score is its current sum divided by the most
    favourable length it can reach, so the criterion is exact (with ``W >=
    V ** max_length`` the result is the exhaustive optimum). At
    ``max_length`` the live beams are scored as finished. Finished samples
    keep being stepped (Z stays fixed) until all samples are done.
    ``num_beams=1`` is exactly greedy argmax decoding.

    Args:
        step_model (StepModel): The model.
        state (Any): Its state of the B samples, nothing generated yet.
        batch_size (int): B.
        start_token (int): First input token.
        end_token (int): Ends a hypothesis.
        max_length (int): Most generated tokens (end token included).
        min_length (int): The end token is forbidden while fewer than this
            many tokens have been generated. Defaults to 0.
        num_beams (int): W. Defaults to 1.
        length_penalty (float): Exponent of the length in the score.
            Defaults to 1.0.
        repetition_penalty (float): Applied to the logits of the tokens a
            sequence already generated (start token excluded); 1.0 is off.
            Defaults to 1.0.
        pad_token (int): Written after the end token. Defaults to 0.
        early_stopping (bool): Stop a sample as soon as it has W finished
            hypotheses. Defaults to False.
        device (str | torch.device): Device of the logits (the tokens fed
            to ``step`` are created there). Defaults to ``'cpu'``.

    Returns:
        tuple[torch.Tensor, torch.Tensor]: Best hypothesis per sample: the
        tokens ``(B, L)`` long (start token excluded, ``pad_token`` after
        the end token, L the longest one) and their scores ``(B,)``.

    Examples:
        >>> class Bigram:  # logits depend on the previous token only
        ...     # rows: previous token 0, 1, end (2), start (3)
        ...     table = torch.tensor([[.1, .1, .8], [.9, .05, .05],
        ...                           [1., 1., 1.], [.5, .4, .1]]).log()
        ...     def step(self, state, tokens):
        ...         return self.table[tokens]
        ...     def reorder(self, state, index):
        ...         return state
        >>> decode(Bigram(), None, 1, start_token=3, end_token=2,
        ...        max_length=3)[0]  # greedy: 0 (p=.5), then end
        tensor([[0, 2]])
        >>> decode(Bigram(), None, 1, start_token=3, end_token=2,
        ...        max_length=3, num_beams=2)[0]  # p=.4*.9*.8 over 3 tokens
        tensor([[1, 0, 2]])
    """
    if num_beams < 1 or max_length < 1:
        raise ValueError('num_beams and max_length must be positive, got '
                         f'{num_beams} and {max_length}')
    b, k, lp = batch_size, num_beams, length_penalty
    n = b * k
    early_stopping = early_stopping or k == 1  # W=1 is greedy
    if k > 1:
        state = step_model.reorder(
            state, torch.arange(b, device=device).repeat_interleave(k))
    # Only beam 0 starts live: W identical copies would fill the beam with
    # the same hypothesis.
    beam_scores = torch.full((b, k), float('-inf'), device=device)
    beam_scores[:, 0] = 0
    seqs = torch.full((n, max_length), pad_token, device=device)  # (Z, L)
    tokens = torch.full((n, ), start_token, device=device)
    finished = (torch.full((b, k), float('-inf'), device=device),
                torch.zeros((b, k), dtype=torch.long, device=device),
                seqs.view(b, k, max_length).clone())
    done = torch.zeros(b, dtype=torch.bool, device=device)
    offset = torch.arange(b, device=device)[:, None] * k  # (B, 1)
    for t in range(max_length):
        logprobs = _log_probs(
            step_model.step(state, tokens), seqs, t, end_token, min_length,
            repetition_penalty)  # (Z, V)
        vocab = logprobs.shape[1]
        cand = (beam_scores.view(n, 1) + logprobs).view(b, k * vocab)
        cand_scores, cand_index = cand.topk(2 * k, dim=1)  # (B, 2W)
        origin, cand_tokens = cand_index // vocab, cand_index % vocab
        is_end = cand_tokens == end_token

        # At most one end candidate per beam, so >= W others remain in 2W.
        new_fin = is_end[:, :k] & cand_scores[:, :k].isfinite() & \
            ~done[:, None]
        fin_seqs = seqs[(offset + origin[:, :k]).view(-1)].view(
            b, k, max_length)
        fin_seqs[..., t] = end_token
        finished = _keep_best(finished, (
            torch.where(new_fin, cand_scores[:, :k] / (t + 1)**lp,
                        float('-inf')),
            torch.full_like(origin[:, :k], t + 1), fin_seqs))

        # Stable sort on is_end keeps the score order among the others.
        live = is_end.int().sort(dim=1, stable=True).indices[:, :k]
        beam_scores = cand_scores.gather(1, live)  # (B, W), descending
        index = (offset + origin.gather(1, live)).view(-1)  # (Z,)
        tokens = cand_tokens.gather(1, live).view(-1)
        seqs = seqs[index]
        seqs[:, t] = tokens
        if t + 1 == max_length:
            break
        worst = finished[0][:, -1]  # -inf until W hypotheses finished
        if early_stopping:
            done |= worst > float('-inf')
        else:
            # A live sum only decreases; s / l**lp over the reachable
            # lengths t+2..max_length peaks at one end of the range.
            best = beam_scores[:, 0]
            done |= worst >= torch.maximum(best / (t + 2)**lp,
                                           best / max_length**lp)
        if bool(done.all()):  # one host sync per step
            break
        if k > 1:
            state = step_model.reorder(state, index)
    unfinished = beam_scores.isfinite() & ~done[:, None]
    finished = _keep_best(finished, (
        torch.where(unfinished, beam_scores / max_length**lp, float('-inf')),
        torch.full_like(finished[1], max_length), seqs.view(b, k,
                                                            max_length)))
    scores, lengths, hyps = (x[:, 0] for x in finished)
    return hyps[:, :int(lengths.max())], scores
