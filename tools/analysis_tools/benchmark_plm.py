"""PLM in one fusion pass vs one pass per predicted position.

    python tools/analysis_tools/benchmark_plm.py [--batch 8] [--repeat 3]

The official code runs the fusion encoder once per text position (31
passes at L=32) and reads one prediction per pass. Two read-outs, each
against its own per-position loop, on the paper's fusion encoder (6 layers,
width 512, video side T+1+N+M = 37 tokens, L = 32):

- stoavlp's prefix LM (``PrefixLMReadout``): one pass with the prefix-LM
  mask vs a loop of full-length passes with the later text zeroed and the
  same mask (a re-implementation with stoavlp's mask, not the official
  attention);
- the official read-out (``BlankSlotReadout``): one pass with the blanks
  appended vs the official loop itself, pass p over ``[video, t_0..t_p,
  blank]`` with the video attending only to the video, causal text, and the
  prediction read at the blank.

The script checks each pair's losses agree to 1e-5 and prints the speed
ratios (goal: >= 20x).
"""
import argparse
import time

import torch
import torch.nn.functional as F

from types import SimpleNamespace

from stoavlp.models.heads import BlankSlotReadout, PLMHead, TiedLMHead
from stoavlp.models.losses import PLMLoss
from stoavlp.models.necks import FusionEncoder
from stoavlp.models.necks.fusion_encoder import TEXT, VIDEO
from stoavlp.models.utils.features import VideoSequence


def plm_loss(head, hidden, ids, predicting, emb):
    """PLMHead's loss on fused text ``hidden``: position p predicts p + 1."""
    targets = torch.roll(ids, shifts=-1, dims=1)[predicting]
    return PLMLoss()(head(hidden[predicting], emb), targets)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--length', type=int, default=32)
    parser.add_argument('--video-tokens', type=int, default=37)
    parser.add_argument('--repeat', type=int, default=3)
    return parser.parse_args()


def one_pass(fusion, head, emb, video, text, keep, ids, split, eot):
    b, lv = video.shape[:2]
    tokens = torch.cat([video, text], 1)
    types = torch.tensor([VIDEO] * lv + [TEXT] * text.shape[1])
    hidden = fusion(tokens, types, torch.cat([torch.ones(b, lv).bool(), keep],
                                             1), 'prefix_lm', lv + split)
    predicting = PLMHead.target_mask(split, eot, text.shape[1])
    return plm_loss(head, hidden[:, lv:], ids, predicting, emb)


def prefix_loop(fusion, head, emb, video, text, keep, ids, split, eot):
    """One full-length pass per text position, later text zeroed, under the
    same prefix-LM mask."""
    b, lv = video.shape[:2]
    length = text.shape[1]
    types = torch.tensor([VIDEO] * lv + [TEXT] * length)
    full_keep = torch.cat([torch.ones(b, lv).bool(), keep], 1)
    logits = []
    for i in range(length - 1):
        visible = torch.zeros_like(text)
        visible[:, :i + 1] = text[:, :i + 1]
        hidden = fusion(torch.cat([video, visible], 1), types, full_keep,
                        'prefix_lm', lv + split)
        logits.append(head(hidden[:, lv + i], emb))
    logits = torch.stack(logits, 1)  # (B, L - 1, V): position i -> i + 1
    predicting = PLMHead.target_mask(split, eot, length)[:, :-1]
    targets = ids[:, 1:][predicting]
    return F.cross_entropy(logits[predicting], targets)


def blank_one_pass(fusion, head, emb, video, text, keep, ids, split, eot):
    b, lv = video.shape[:2]
    types = torch.tensor([VIDEO] * lv)
    hidden = BlankSlotReadout().fuse(
        SimpleNamespace(fusion_encoder=fusion),
        VideoSequence(video, types, torch.ones(b, lv).bool(), lv - 1), text,
        keep, split)
    predicting = PLMHead.target_mask(split, eot, text.shape[1])
    return plm_loss(head, hidden, ids, predicting, emb)


def official_loop(fusion, head, emb, video, text, keep, ids, split, eot):
    """The official passes: ``[video, t_0..t_p, 0]`` for each p, video
    attending to video only, text causal, the prediction read at the zero
    slot (position p + 1)."""
    b, lv = video.shape[:2]
    length = text.shape[1]
    logits = []
    for p in range(length - 1):
        n = lv + p + 2
        mask = torch.ones(n, n, dtype=torch.bool).tril()
        mask[:lv, :lv] = True
        seq = torch.cat([video, text[:, :p + 1],
                         torch.zeros_like(text[:, :1])], 1)
        types = torch.tensor([VIDEO] * lv + [TEXT] * (p + 2))
        seq_keep = torch.cat([torch.ones(b, lv).bool(), keep[:, :p + 1],
                              torch.ones(b, 1).bool()], 1)
        hidden = fusion(seq, types, seq_keep, 'masked',
                        attn_mask=mask[None, None])
        logits.append(head(hidden[:, -1], emb))
    logits = torch.stack(logits, 1)  # (B, L - 1, V): position p -> p + 1
    predicting = PLMHead.target_mask(split, eot, length)[:, :-1]
    targets = ids[:, 1:][predicting]
    return F.cross_entropy(logits[predicting], targets)


def timed(fn, repeat):
    fn()  # warm-up
    start = time.perf_counter()
    for _ in range(repeat):
        out = fn()
    return (time.perf_counter() - start) / repeat, out


def main():
    args = parse_args()
    torch.manual_seed(0)
    fusion = FusionEncoder(width=512, layers=6, heads=8).eval()
    head = TiedLMHead(width=512, dropout=0.0).eval()
    emb = torch.randn(49408, 512) * 0.02
    b, length = args.batch, args.length
    video = torch.randn(b, args.video_tokens, 512)
    text = torch.randn(b, length, 512)
    eot = torch.randint(length // 3, length, (b, ))
    keep = torch.arange(length)[None] <= eot[:, None]
    ids = torch.randint(1, 49406, (b, length))
    # PLMHead's split: uniform in [1, eot]
    split = 1 + (torch.rand(b) * eot.float()).long().minimum(eot - 1)
    inputs = (fusion, head, emb, video, text, keep, ids, split, eot)
    print(f'PLM at L={length}, batch {b}, fusion 6x512, '
          f'{args.video_tokens} video-side tokens ({torch.get_num_threads()}'
          ' CPU threads)')
    for name, fast, slow in (
            ('prefix LM (stoavlp)', one_pass, prefix_loop),
            ('blank-slot read-out (official)', blank_one_pass,
             official_loop)):
        with torch.no_grad():
            t_one, loss_one = timed(lambda: fast(*inputs), args.repeat)
            t_loop, loss_loop = timed(lambda: slow(*inputs), args.repeat)
        diff = abs(loss_one.item() - loss_loop.item())
        print(f'  {name}:')
        print(f'    one pass           : {t_one * 1000:9.1f} ms  loss '
              f'{loss_one.item():.6f}')
        print(f'    {length - 1} passes (loop)   : {t_loop * 1000:9.1f} ms  '
              f'loss {loss_loop.item():.6f}')
        print(f'    |loss difference| = {diff:.2e} '
              f'({"OK" if diff <= 1e-5 else "MISMATCH"}, tolerance 1e-5); '
              f'speed-up {t_loop / t_one:.1f}x (goal >= 20x)')


if __name__ == '__main__':
    main()
