"""Export video and text embeddings of a retrieval model, for your own
retrieval system.

    # a config's test set: every video and every caption, with ids
    python tools/misc/extract_features.py CONFIG CHECKPOINT \\
        --dataset-config CONFIG --out feats.npz

    # a folder of your own videos (and optionally texts, one per line)
    python tools/misc/extract_features.py CONFIG CHECKPOINT \\
        --videos DIR [--texts queries.txt] --out feats.npz \\
        [--detector DET_CONFIG DET_CKPT | --objects-dir DIR]

Writes an ``.npz`` with ``video_ids (V,)``, ``video_embed (V, D)`` and, with
texts, ``text_ids (T,)``, ``texts (T,)``, ``text_embed (T, D)`` and (for a
dataset) ``text_to_video (T,)``: L2-normalised float32 embeddings in the
joint space, ``text_embed @ video_embed.T`` being the model's similarity
(before VTM re-ranking). Text ids of a dataset are ``<video_id>#<n>``, the
n-th caption of the video, as ``tools/test.py --dump`` names them.
"""
import os
import os.path as osp
import sys

import numpy as np

try:
    import stoavlp  # noqa: F401
except ImportError:  # run from a checkout without ``pip install -e .``
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..',
                                            '..')))


def parse_args(argv=None):
    from stoavlp.apis.cli import inference_parser
    parser = inference_parser(__doc__)
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument('--dataset-config',
                     help="a config whose test_dataloader dataset is encoded")
    src.add_argument('--videos', help='a folder of videos')
    parser.add_argument('--texts', help='with --videos: a text file, one '
                        'text per line')
    parser.add_argument('--out', required=True, help='.npz path')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--workers', type=int, default=0)
    return parser.parse_args(argv)


def dataset_features(model, config: str, batch_size: int,
                     workers: int) -> dict:
    from mmengine.config import Config

    from stoavlp.apis.inferencers.retrieval import encode_dataset
    from stoavlp.registry import DATASETS
    from stoavlp.utils import register_all_modules
    register_all_modules()
    dataset = DATASETS.build(Config.fromfile(config).test_dataloader.dataset)
    feats = encode_dataset(model, dataset, batch_size, workers)
    infos = [dataset.get_data_info(int(i)) for i in feats.sample_idx]
    video_ids = [str(info.get('video_id', i)) for i, info in enumerate(infos)]
    text_ids, texts = [], []
    for video_id, info in zip(video_ids, infos):
        captions = info.get('text', [])
        captions = [captions] if isinstance(captions, str) else captions
        texts += list(captions)
        text_ids += [f'{video_id}#{n}' for n in range(len(captions))]
    return dict(video_ids=np.array(video_ids), texts=np.array(texts),
                text_ids=np.array(text_ids),
                video_embed=feats.video_embed.float().numpy(),
                text_embed=feats.text_embed.float().numpy(),
                text_to_video=feats.text_to_video.numpy())


def folder_features(model, args) -> dict:
    from stoavlp.apis import TextToVideoRetrievalInferencer
    from stoavlp.apis.cli import inferencer_kwargs
    search = TextToVideoRetrievalInferencer(
        model, gallery=args.videos, batch_size=args.batch_size,
        num_workers=args.workers, **inferencer_kwargs(args))
    for path, err in search.errors.items():
        print(f'left out {path}: {err}')
    out = dict(video_ids=np.array(search.gallery),
               video_embed=search.features['video_embed'].float().numpy())
    if args.texts:
        with open(args.texts, encoding='utf-8') as f:
            texts = [line.strip() for line in f if line.strip()]
        out.update(texts=np.array(texts),
                   text_ids=np.array([str(i) for i in range(len(texts))]),
                   text_embed=search.tokenize(texts).text_embed.float()
                   .numpy())
    return out


def main(argv=None) -> dict:
    from stoavlp.apis.cli import load_model
    args = parse_args(argv)
    if args.texts and not args.videos:
        raise SystemExit('--texts goes with --videos')
    model = load_model(args)
    if not hasattr(model, 'video_features'):
        raise SystemExit(f'{type(model).__name__} is not a retrieval model')
    out = dataset_features(model, args.dataset_config, args.batch_size,
                           args.workers) if args.dataset_config \
        else folder_features(model, args)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    np.savez(args.out, **out)
    print(f'{args.out}: {len(out["video_ids"])} videos'
          + (f', {len(out["text_ids"])} texts' if 'text_ids' in out else '')
          + f', D={out["video_embed"].shape[1]}')
    return out


if __name__ == '__main__':
    main()
