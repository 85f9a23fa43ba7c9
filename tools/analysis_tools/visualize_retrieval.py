"""Show the top videos a retrieval model finds for one text query.

    python tools/analysis_tools/visualize_retrieval.py CONFIG CHECKPOINT
        (--query "a red circle is moving left" | --index I) --out FILE
        [--topk 5] [--frames 3] [--phase auto] [--cfg-options ...]

Encodes every video of the config's retrieval set (``--phase``, default
test) with the model (``STOAVLPRetriever``), ranks them for the query as
the evaluation does (cosine similarity; the top ``rerank_topk`` re-scored
by ``softmax(sim) * P_match`` when the model has a VTM head) and draws a
sheet: one row per result with ``--frames`` of its frames (1: the middle one),
score, caption and a green frame around the ground truth. ``--index I``
takes the I-th text of the set as the query (its video is the ground
truth); ``--query`` takes any text (videos with exactly that caption are
the ground truth).
"""
import argparse
import math
import time

import numpy as np
import torch
from mmengine.config import Config, DictAction

GROUND_TRUTH_COLOR = (0, 220, 0)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='a retrieval config')
    parser.add_argument('checkpoint', help='model weights')
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument('--query', help='query text')
    which.add_argument('--index', type=int, help='index of a text of the set')
    parser.add_argument('--out', required=True, help='PNG path')
    parser.add_argument('--topk', type=int, default=5)
    parser.add_argument('--frames', type=int, default=3,
                        help='frames per result (1: the middle one)')
    parser.add_argument('--phase', default='auto',
                        choices=['auto', 'train', 'val', 'test'])
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--workers', type=int, default=0)
    parser.add_argument('--device', default=None, help='default: cuda if any')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def set_captions(dataset) -> list:
    """Every text of the set in ``text_embed`` order (videos in order,
    each video's texts in order)."""
    captions = []
    for index in range(len(dataset)):
        text = dataset.get_data_info(index)['text']
        captions.extend([text] if isinstance(text, str) else list(text))
    return captions


@torch.no_grad()
def add_query(model, dataset, feats, text: str):
    """``feats`` (:class:`RetrievalFeatures`) with a free-text query
    appended to its texts (encoded as the dataset's pipeline tokenizes),
    and the query's text index."""
    from stoavlp.visualization.loading import pipeline_transform
    tokenize = pipeline_transform(dataset, 'TokenizeText')
    if tokenize is None:
        raise SystemExit('the dataset pipeline has no TokenizeText')
    tokens = tokenize(dict(text=text))
    device = next(model.parameters()).device
    ids = torch.as_tensor(tokens['token_ids']).view(1, -1).to(device)
    mask = torch.as_tensor(tokens['attention_mask']).view(1, -1).to(device)
    from stoavlp.structures.retrieval_features import TEXT_FIELDS
    query = model.text_features(ids, mask)
    extended = {k: torch.cat([getattr(feats, k), getattr(query, k).cpu()])
                for k in TEXT_FIELDS if getattr(feats, k) is not None}
    return feats.with_texts(type(feats)(**extended)), feats.num_texts


@torch.no_grad()
def rank_videos(model, feats, text_index: int, topk: int,
                ground_truth: set) -> dict:
    """The ranking of the videos for one text, as evaluation ranks
    (:func:`~stoavlp.evaluation.functional.rank_direction` with the model's
    re-ranking).

    Returns:
        dict: ``videos (k,)`` and ``scores (k,)`` best first, ``rank`` of
        the best ground truth (None without one).
    """
    from stoavlp.evaluation.functional import rank_direction
    from stoavlp.structures.retrieval_features import TEXT_FIELDS
    one = slice(text_index, text_index + 1)
    query = feats.with_texts(type(feats)(**{
        k: getattr(feats, k)[one] for k in TEXT_FIELDS
        if getattr(feats, k) is not None}))
    ranked = rank_direction(query, False, [ground_truth or {0}],
                            scorer=model.rerank_scores,
                            rerank_topk=model.rerank_topk, topk=topk)
    return dict(videos=ranked['topk_indices'][0, :topk].tolist(),
                scores=ranked['topk_scores'][0, :topk].tolist(),
                rank=int(ranked['ranks'][0]) if ground_truth else None)


def result_row(dataset, video: int, place: int, score: float,
               is_ground_truth: bool, num_frames: int) -> dict:
    """One sheet row: frames of the video (green-framed when it is the
    ground truth) and its rank, score and caption."""
    from stoavlp.visualization import draw_boxes
    item = dataset[video]
    frames = item['inputs'].permute(0, 2, 3, 1).numpy()  # (T, H, W, 3)
    picked = np.round(np.linspace(0, len(frames) - 1, num_frames + 2)[
        1:-1]).astype(int) if num_frames > 1 else [len(frames) // 2]
    h, w = frames.shape[1:3]
    if is_ground_truth:
        border = [[0, 0, w, h]]
        frames = [draw_boxes(frames[t], border, colors=[GROUND_TRUTH_COLOR],
                             thickness=max(2, w // 40)) for t in picked]
    else:
        frames = [frames[t] for t in picked]
    meta = item['data_samples'].metainfo
    caption = meta.get('text', '')
    caption = caption if isinstance(caption, str) else caption[0]
    mark = '  GROUND TRUTH' if is_ground_truth else ''
    return dict(frames=frames,
                text=f'#{place} {meta.get("video_id")}  score {score:.4f}'
                     f'{mark}\n{caption}')


def main(argv=None):
    from stoavlp.compat import trusted_checkpoints
    args = parse_args(argv)
    from stoavlp.utils import register_all_modules
    from stoavlp.visualization import make_contact_sheet
    from stoavlp.visualization.loading import (build_dataset, load_model,
                                               pick_phase)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    dataset = build_dataset(cfg, pick_phase(cfg, args.phase))
    with trusted_checkpoints():  # the project's own runs
        model = load_model(cfg, args.checkpoint, args.device)
    if not hasattr(model, 'rerank_scores'):
        raise SystemExit(f'{type(model).__name__} is not a retrieval model')
    start = time.time()
    from stoavlp.apis.inferencers.retrieval import encode_dataset
    feats = encode_dataset(model, dataset, args.batch_size, args.workers)
    captions = set_captions(dataset)
    print(f'{feats.num_videos} videos, {len(captions)} texts '
          f'encoded in {time.time() - start:.1f} s')

    text_to_video = feats.text_to_video.tolist()
    if args.index is not None:
        if not 0 <= args.index < len(captions):
            raise SystemExit(f'--index outside [0, {len(captions)})')
        query, text_index = captions[args.index], args.index
        ground_truth = {text_to_video[args.index]}
    else:
        query = args.query
        feats, text_index = add_query(model, dataset, feats, query)
        wanted = query.strip().lower()
        ground_truth = {v for c, v in zip(captions, text_to_video)
                        if c.strip().lower() == wanted}
    ranked = rank_videos(model, feats, text_index, args.topk, ground_truth)

    rows = []
    for place, (video, score) in enumerate(
            zip(ranked['videos'], ranked['scores']), 1):
        rows.append(result_row(dataset, video, place, score,
                               video in ground_truth, args.frames))
        print(rows[-1]['text'].split('\n')[0])
    if ranked['rank'] is None:
        found = 'no ground truth in the set'
    else:
        found = f'ground truth ranked #{ranked["rank"]} of ' \
                f'{feats.num_videos}'
    print(found)
    h, w = rows[0]['frames'][0].shape[:2]
    scale = max(1, math.ceil(224 / min(h, w)))
    make_contact_sheet(rows, args.out, frame_size=(w * scale, h * scale),
                       title=f'query: "{query}"  ({found})')
    print(f'picture: {args.out}')
    return ranked


if __name__ == '__main__':
    main()
