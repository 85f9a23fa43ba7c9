"""PLM: one prefix-LM fusion pass vs the official per-position loop.

    python tools/analysis_tools/benchmark_plm.py [--batch 8] [--repeat 3]

The official code runs the fusion encoder once per text position (31
passes at L=32), each over the whole sequence with the not-yet-generated
text zeroed and a causal text mask, and reads one position per pass. With a
prefix-LM mask one pass yields every position's logits. Both are run on the
paper's fusion encoder (6 layers, width 512, video side T+1+N+M = 37 tokens,
L = 32) with the same split points; the script checks the losses agree to
1e-5 and prints the speed ratio (goal: >= 20x).
"""
import argparse
import time

import torch
import torch.nn.functional as F

from stoavlp.models.heads import TiedLMHead
from stoavlp.models.losses import PLMLoss
from stoavlp.models.necks import FusionEncoder
from stoavlp.models.necks.fusion_encoder import TEXT, VIDEO


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
    predicting = PLMLoss.target_mask(split, eot, text.shape[1])
    return head.loss_plm(hidden[:, lv:], ids, predicting, emb)


def official_loop(fusion, head, emb, video, text, keep, ids, split, eot):
    """One full-length pass per text position, later text zeroed."""
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
    predicting = PLMLoss.target_mask(split, eot, length)[:, :-1]
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
    split = PLMLoss.sample_split(eot, torch.rand(b))
    inputs = (fusion, head, emb, video, text, keep, ids, split, eot)
    with torch.no_grad():
        t_one, loss_one = timed(lambda: one_pass(*inputs), args.repeat)
        t_loop, loss_loop = timed(lambda: official_loop(*inputs),
                                  args.repeat)
    diff = abs(loss_one.item() - loss_loop.item())
    print(f'PLM at L={length}, batch {b}, fusion 6x512, '
          f'{args.video_tokens} video-side tokens ({torch.get_num_threads()}'
          ' CPU threads)')
    print(f'  one prefix-LM pass : {t_one * 1000:9.1f} ms  loss '
          f'{loss_one.item():.6f}')
    print(f'  official loop ({length - 1} passes): {t_loop * 1000:9.1f} ms  '
          f'loss {loss_loop.item():.6f}')
    print(f'  |loss difference| = {diff:.2e} '
          f'({"OK" if diff <= 1e-5 else "MISMATCH"}, tolerance 1e-5)')
    print(f'  speed-up: {t_loop / t_one:.1f}x (goal >= 20x)')


if __name__ == '__main__':
    main()
