"""decode(): greedy and beam search against brute force and hand-made cases.

Letters: B batch, S enumerated sequences, N live sequences, V vocabulary,
L length, W hidden width.
"""
import copy
import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from stoavlp.models.utils.generation import decode

LOG = math.log


class BoundSteps:
    """Step models decode the samples ``self.sample`` (all by default)."""

    def bind(self, sample):
        """The same model, decoding the samples ``sample (B',)``."""
        bound = copy.copy(self)
        bound.sample = sample
        return bound


class RNNStepModel(BoundSteps):
    """Tiny random recurrent decoder whose cache is a list of hidden states.

    The logits depend on the sample's context and on every cached state, so
    a skipped or wrong ``reorder`` changes the output. Token ``vocab - 1``
    is the end token, ``vocab`` the start token. ``reorders`` records every
    reorder index.
    """

    def __init__(self, vocab, batch, width=8, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.embed = torch.randn(vocab + 1, width, generator=g)
        self.mix = torch.randn(width, width, generator=g)
        self.out = torch.randn(width, vocab, generator=g) * 3 / width**0.5
        self.contexts = torch.randn(batch, width, generator=g)
        self.sample = torch.arange(batch)
        self.reorders = []

    def init_state(self):
        return dict(context=self.contexts[self.sample], cache=[])

    def step(self, state, tokens):
        history = sum(state['cache'], torch.zeros_like(state['context']))
        hidden = torch.tanh(self.embed[tokens] + state['context'] +
                            history @ self.mix)  # (N, W)
        state['cache'].append(hidden)
        logits = hidden @ self.out  # (N, V)
        # The end token gets likelier with the length: varied lengths.
        logits[:, -1] += 0.7 * len(state['cache']) - 1.5
        return logits

    def reorder(self, state, index):
        self.reorders.append(index)
        return dict(context=state['context'][index],
                    cache=[h[index] for h in state['cache']])

    def to(self, device):
        for name in ('embed', 'mix', 'out', 'contexts', 'sample'):
            setattr(self, name, getattr(self, name).to(device))
        return self


class TableStepModel(BoundSteps):
    """Logits ``table[sample, position, previous token]``, table
    ``(B, L, V + 1, V)`` (previous token V is the start token)."""

    def __init__(self, table):
        self.table = table
        self.sample = torch.arange(len(table))

    def init_state(self):
        return dict(sample=self.sample, pos=0)

    def step(self, state, tokens):
        state['pos'] += 1
        return self.table[state['sample'], state['pos'] - 1, tokens]

    def reorder(self, state, index):
        return dict(sample=state['sample'][index], pos=state['pos'])


def run(model, **kwargs):
    """decode() with start token V and end token V - 1."""
    vocab = model.out.shape[1] if hasattr(model, 'out') else \
        model.table.shape[-1]
    return decode(model, model.init_state(), len(model.sample),
                  start_token=vocab, end_token=vocab - 1,
                  device=model.sample.device, **kwargs)


def brute_force(model, sample, vocab, max_length, length_penalty,
                min_length=0):
    """Best ``(score, tokens)`` over all sequences, scored like decode."""
    end = vocab - 1
    seqs = torch.tensor(
        list(itertools.product(range(vocab), repeat=max_length)))  # (S, L)
    inputs = torch.cat([torch.full_like(seqs[:, :1], vocab), seqs[:, :-1]],
                       1)  # (S, L)
    state = model.bind(torch.full((len(seqs), ), sample)).init_state()
    logprobs = []
    for t in range(max_length):
        logits = model.step(state, inputs[:, t])
        if t < min_length:
            logits[:, end] = float('-inf')
        logprobs.append(F.log_softmax(logits, -1).gather(1, seqs[:, t:t + 1]))
    logprobs = torch.cat(logprobs, 1)  # (S, L)
    is_end = seqs == end
    # Length up to the first end token; later tokens are ignored.
    length = torch.where(is_end.any(1), is_end.int().argmax(1) + 1,
                         max_length)  # (S,)
    keep = torch.arange(max_length) < length[:, None]  # (S, L)
    scores = torch.where(keep, logprobs, 0).sum(1) / length**length_penalty
    best = int(scores.argmax())
    return float(scores[best]), seqs[best, :length[best]].tolist()


def unpad(row, end):
    row = row.tolist()
    return row[:row.index(end) + 1] if end in row else row


@pytest.mark.parametrize('vocab,max_length', [(4, 4), (5, 3)])
@pytest.mark.parametrize('length_penalty', [-1.0, 0.0, 1.0, 2.0])
@pytest.mark.parametrize('min_length', [0, 2])
def test_beam_equals_brute_force(vocab, max_length, length_penalty,
                                 min_length):
    model = RNNStepModel(vocab, batch=3, seed=vocab + max_length)
    tokens, scores = run(model, max_length=max_length,
                         min_length=min_length, num_beams=vocab**max_length,
                         length_penalty=length_penalty)
    for i in range(3):
        score, best = brute_force(model, i, vocab, max_length,
                                  length_penalty, min_length)
        assert unpad(tokens[i], vocab - 1) == best
        assert scores[i].item() == pytest.approx(score, abs=1e-5)


def greedy_reference(model, sample, vocab, max_length, length_penalty):
    """Step-by-step argmax of one sample."""
    state = model.bind(torch.tensor([sample])).init_state()
    token, total, out = torch.tensor([vocab]), 0.0, []
    for _ in range(max_length):
        logprobs = F.log_softmax(model.step(state, token), -1)
        token = logprobs.argmax(-1)
        total += logprobs[0, token].item()
        out.append(token.item())
        if out[-1] == vocab - 1:
            break
    return total / len(out)**length_penalty, out


@pytest.mark.parametrize('early_stopping', [False, True])
@pytest.mark.parametrize('length_penalty', [0.0, 1.0])
def test_greedy_is_argmax(early_stopping, length_penalty):
    # early_stopping does not apply to a single beam.
    model = RNNStepModel(6, batch=5, seed=1)
    tokens, scores = run(model, max_length=6, early_stopping=early_stopping,
                         length_penalty=length_penalty)
    assert tokens.dtype == torch.long and tokens.shape[1] <= 6
    assert model.reorders == []  # a single beam never moves
    for i in range(5):
        score, best = greedy_reference(model, i, 6, 6, length_penalty)
        assert unpad(tokens[i], 5) == best
        assert scores[i].item() == pytest.approx(score, abs=1e-5)


def crafted_table():
    """Greedy takes 0 (p=.5) then end (p=.6); beam 2 finds 1 0 end.

    Tokens 0, 1, end = 2, start = 3; 3 positions.
    """
    probs = torch.full((3, 4, 3), 1 / 3)
    probs[0, 3] = torch.tensor([.5, .499, .001])
    probs[1, 0] = torch.tensor([.25, .15, .6])
    probs[1, 1] = torch.tensor([.40, .01, .59])
    probs[2] = torch.tensor([.005, .005, .99])
    return TableStepModel(probs.log()[None])


@pytest.mark.parametrize('early_stopping,expected', [
    (False, ([1, 0, 2], LOG(.499 * .4 * .99) / 3)),
    (True, ([0, 2], LOG(.5 * .6) / 2)),
])
def test_beam_beats_greedy(early_stopping, expected):
    model = crafted_table()
    tokens, scores = run(model, max_length=3)
    assert tokens.tolist() == [[0, 2]]
    assert scores.item() == pytest.approx(LOG(.5 * .6) / 2)
    # Step 2 finishes 0 end and 1 end (the top 2), while 1 0 stays live and
    # can still win: early stopping returns 0 end, the exact criterion not.
    tokens, scores = run(model, max_length=3, num_beams=2,
                         early_stopping=early_stopping)
    assert tokens.tolist() == [expected[0]]
    assert scores.item() == pytest.approx(expected[1], abs=1e-6)
    if not early_stopping:
        assert brute_force(model, 0, 3, 3, 1.0)[1] == expected[0]


def constant_table(probs, max_length, batch=1):
    row = torch.tensor(probs).log()
    return TableStepModel(row.expand(batch, max_length, len(probs) + 1, -1))


def test_min_length():
    model = constant_table([.2, .1, .7], 4)
    assert run(model, max_length=4)[0].tolist() == [[2]]
    tokens, scores = run(model, max_length=4, min_length=2)
    assert tokens.tolist() == [[0, 0, 2]]  # end renormalised away twice
    assert scores.item() == pytest.approx((2 * LOG(2 / 3) + LOG(.7)) / 3)
    # Beam search agrees: a 4th token would cost more than it gains.
    tokens, _ = run(model, max_length=4, min_length=2, num_beams=3)
    assert tokens.tolist() == [[0, 0, 2]]


@pytest.mark.parametrize('num_beams', [1, 3])
def test_max_length_truncates(num_beams):
    model = constant_table([.5, .3, .2], 3)
    tokens, scores = run(model, max_length=3, num_beams=num_beams)
    assert tokens.tolist() == [[0, 0, 0]]
    assert scores.item() == pytest.approx(LOG(.5))
    assert run(model, max_length=1)[0].tolist() == [[0]]


@pytest.mark.parametrize('num_beams', [1, 2])
def test_padding_after_end(num_beams):
    probs = torch.tensor([.5, .3, .2]).expand(2, 4, 4, 3).clone()
    probs[0, 0, 3] = torch.tensor([.6, .3, .1])
    probs[0, 1:] = torch.tensor([.05, .05, .9])  # sample 0 ends at once
    model = TableStepModel(probs.log())
    tokens, scores = run(model, max_length=4, num_beams=num_beams,
                         pad_token=7)
    assert tokens.tolist() == [[0, 2, 7, 7], [0, 0, 0, 0]]
    assert scores.tolist() == pytest.approx([LOG(.54) / 2, LOG(.5)])


@pytest.mark.parametrize('first,penalised', [
    ([2.0, 1.5, -5.0], 2.0 / 1.5),  # positive logit: divided
    ([-1.0, -1.2, -5.0], -1.0 * 1.5),  # negative logit: multiplied
])
def test_repetition_penalty(first, penalised):
    # Token 0 wins steps 1 and 2 unless penalised after step 1; then end.
    logits = torch.tensor(first)
    last = torch.tensor([0.0, 0.0, 5.0])
    table = torch.cat([logits.expand(1, 2, 4, 3), last.expand(1, 1, 4, 3)],
                      1)  # (1, 3, 4, 3)
    model = TableStepModel(table)
    assert run(model, max_length=3)[0].tolist() == [[0, 0, 2]]
    tokens, scores = run(model, max_length=3, repetition_penalty=1.5)
    assert tokens.tolist() == [[0, 1, 2]]
    second = logits.clone()
    second[0] = penalised
    # Step 3: tokens 0 and 1 are penalised, but their logits are 0.
    expected = (F.log_softmax(logits, 0)[0] + F.log_softmax(second, 0)[1] +
                F.log_softmax(last, 0)[2]) / 3
    assert scores.item() == pytest.approx(expected.item())


@pytest.mark.parametrize('num_beams,length_penalty', [(1, 1.0), (3, 1.0),
                                                      (4, 0.0)])
def test_batch_equals_one_by_one(num_beams, length_penalty):
    model = RNNStepModel(7, batch=6, seed=3)
    kwargs = dict(max_length=8, num_beams=num_beams,
                  length_penalty=length_penalty)
    tokens, scores = run(model, **kwargs)
    rows = {tuple(unpad(row, 6)) for row in tokens}
    assert len(rows) > 1  # the samples decode differently
    for i in range(6):
        one, score = run(model.bind(torch.tensor([i])), **kwargs)
        assert unpad(tokens[i], 6) == unpad(one[0], 6)
        assert scores[i].item() == pytest.approx(score.item(), abs=1e-5)


def test_reorder_contract():
    model = RNNStepModel(5, batch=2, seed=4)
    run(model, max_length=4, num_beams=3)
    first, *later = model.reorders
    assert first.tolist() == [0, 0, 0, 1, 1, 1]  # beams of a sample adjacent
    assert later and all(index.shape == (6, ) for index in later)
    # Beams never move to another sample.
    assert all((index // 3).tolist() == first.tolist() for index in later)


class NoReorderModel(RNNStepModel):
    """Expands the beams but then ignores the beam moves."""

    def reorder(self, state, index):
        if not state['cache']:
            return super().reorder(state, index)
        return state


def test_wrong_reorder_is_detected():
    # Guards the tests above: the caches matter for the result.
    kwargs = dict(max_length=4, num_beams=4**4)
    good = run(RNNStepModel(4, batch=3, seed=0), **kwargs)
    bad = run(NoReorderModel(4, batch=3, seed=0), **kwargs)
    assert not torch.allclose(good[1], bad[1])


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
@pytest.mark.parametrize('num_beams', [1, 3])
def test_cuda_equals_cpu(num_beams):
    kwargs = dict(max_length=6, num_beams=num_beams, repetition_penalty=1.3,
                  min_length=2)
    cpu = run(RNNStepModel(6, batch=4, seed=5), **kwargs)
    cuda = run(RNNStepModel(6, batch=4, seed=5).to('cuda'), **kwargs)
    assert cuda[0].device.type == 'cuda'
    assert torch.equal(cuda[0].cpu(), cpu[0])
    assert torch.allclose(cuda[1].cpu(), cpu[1], atol=1e-4)


def test_invalid_arguments():
    with pytest.raises(ValueError, match='must be positive'):
        run(constant_table([.5, .5], 2), max_length=2, num_beams=0)

