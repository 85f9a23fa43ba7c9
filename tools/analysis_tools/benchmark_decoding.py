"""Caption decoding: key/value-cached steps vs recomputing the prefix.

    python tools/analysis_tools/benchmark_decoding.py [--batch 24] [--length 30]

The paper captioner (CLIP ViT-B/16 encoders, 6-layer fusion, random
weights) greedily decodes ``--length`` tokens for a batch of clips (the end
token is masked so both runs generate the full length). The cached
decoder encodes one new token per step in the text and fusion encoders;
the reference re-encodes the whole text and re-fuses the whole sequence at
every step. Prints both times (the video encoding, shared, excluded), the
speed-up (goal >= 5x at 30 tokens) and whether the tokens are identical.

The default batch is the official captioning evaluation batch (24). With
very small batches a CPU step is bound by reading the weights (about 330 MB
per step), which both variants pay alike, so the ratio shrinks (batch 4:
2.5x).
"""
import argparse
import os.path as osp
import time

import torch
from mmengine.config import Config

from stoavlp.registry import MODELS
from stoavlp.testing import synthetic_batch
from stoavlp.utils import register_all_modules
from stoavlp.models.heads import CachedCaptionSteps
from stoavlp.models.utils.generation import decode
from stoavlp.testing.decoding import RecomputedCaptionSteps

CONFIG = osp.join(osp.dirname(__file__), '..', '..', 'configs', 'caption',
                  'stoavlp_vit-b16-u12-res224_8xb4-5e_msrvtt-caption.py')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch', type=int, default=24)
    parser.add_argument('--length', type=int, default=30)
    parser.add_argument('--num-beams', type=int, default=1)
    return parser.parse_args()


def main():
    args = parse_args()
    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(CONFIG).model).eval()
    inputs, samples = synthetic_batch(args.batch, frames=12, objects=10,
                                      classes=8, length=32, size=224)
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples),
                                   False)
    with torch.no_grad():
        video_seq = model.video_sequence(
            model.encode_video(data['inputs'], data['data_samples']))
        results = {}
        for name, steps_cls in (('cached', CachedCaptionSteps),
                                ('recomputed', RecomputedCaptionSteps)):
            steps = steps_cls(model, video_seq)
            start = time.perf_counter()
            tokens, _ = decode(steps, steps.init_state(), args.batch,
                               start_token=49406, end_token=49407,
                               max_length=args.length,
                               min_length=args.length,
                               num_beams=args.num_beams)
            results[name] = (time.perf_counter() - start, tokens)
    (t_cached, cached), (t_full, full) = results['cached'], results['recomputed']
    print(f'greedy decoding of {args.length} tokens, batch {args.batch}, '
          f'{args.num_beams} beam(s), paper dims, '
          f'{torch.get_num_threads()} CPU threads')
    print(f'  key/value cache   : {t_cached:7.2f} s')
    print(f'  recomputing prefix: {t_full:7.2f} s')
    print(f'  speed-up: {t_full / t_cached:.1f}x (goal >= 5x); identical '
          f'tokens: {torch.equal(cached, full)} '
          f'({cached.shape[1]} tokens each)')


if __name__ == '__main__':
    main()
