"""Show samples of a dataset config after the whole data pipeline.

    python tools/analysis_tools/browse_dataset.py CONFIG [--phase train]
        [--num 6] [--frames 6] [--out work_dirs/browse.png]

Each row is one sample: the sampled frames as the model gets them (after
decoding, sampling, resize/crop/flip), the object boxes after filtering and
projection, coloured by trajectory class (top classes first), and the text
with noun tokens marked [n] and verb tokens [v]. Bad samples the dataset
skipped on the way are listed.
"""
import argparse
import os
import os.path as osp
import time

import numpy as np
from mmengine.config import Config, DictAction
from tqdm import tqdm


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='a config with *_dataloader entries')
    parser.add_argument('--phase', default='train',
                        choices=['train', 'val', 'test'])
    parser.add_argument('--num', type=int, default=6, help='samples to show')
    parser.add_argument('--frames', type=int, default=6,
                        help='frames shown per sample')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default=None,
                        help='PNG path (default work_dirs/browse_<cfg>.png)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def find_tokenizer(dataset):
    """The CLIP tokenizer of the dataset's TokenizeText, if any."""
    for transform in dataset.pipeline.transforms:
        if type(transform).__name__ == 'TokenizeText':
            return transform.tokenizer
    return None


def marked_text(sample, tokenizer, max_texts=2):
    """Decode the tokens, marking nouns ``[n]`` and verbs ``[v]``."""
    if tokenizer is None or 'token_ids' not in sample:
        text = sample.metainfo.get('text', '')
        return text if isinstance(text, str) else ' | '.join(text)
    ids = np.atleast_2d(sample.token_ids.numpy())
    nouns = np.atleast_2d(sample.noun_mask.numpy())
    verbs = np.atleast_2d(sample.verb_mask.numpy())
    lines = []
    for row, noun, verb in list(zip(ids, nouns, verbs))[:max_texts]:
        # BPE pieces end a word with '</w>': glue the pieces of a word
        # back together and put each piece's tag right after it.
        pieces = tokenizer.hf_tokenizer.convert_ids_to_tokens(
            [int(i) for i in row])
        text = ''
        for pos, (token, piece) in enumerate(zip(row, pieces)):
            if token in (tokenizer.sot_token_id, tokenizer.pad_token_id):
                continue
            if token == tokenizer.eot_token_id:
                break
            tag = '[n]' if noun[pos] else '[v]' if verb[pos] else ''
            text += piece.replace('</w>', tag + ' ') if \
                piece.endswith('</w>') else piece + tag
        lines.append(text.strip())
    if len(ids) > max_texts:
        lines.append(f'(+{len(ids) - max_texts} more texts)')
    return '\n'.join(lines)


def sample_row(data, tokenizer, num_frames):
    """Frames with boxes and a caption for one packed sample."""
    from stoavlp.visualization import draw_boxes, trajectory_colors
    sample = data['data_samples']
    frames = data['inputs'].permute(0, 2, 3, 1).numpy()  # (T, H, W, 3)
    keep = np.linspace(0, len(frames) - 1, min(num_frames, len(frames)))
    classes = sample.metainfo.get('obj_classes', [])
    colors = trajectory_colors(len(classes))
    drawn = []
    for t in np.round(keep).astype(int):
        if 'obj_boxes' in sample:
            mask = sample.obj_mask[t].numpy()
            labels = sample.obj_labels[t].numpy()[mask]
            drawn.append(
                draw_boxes(frames[t], sample.obj_boxes[t].numpy()[mask],
                           [classes[i] for i in labels],
                           [colors[i] for i in labels]))
        else:
            drawn.append(frames[t])
    meta = sample.metainfo
    head = f'{meta.get("video_id", "")}'
    if 'obj_class_conf' in sample:
        conf = sample.obj_class_conf.numpy()
        head += '  objects: ' + ', '.join(
            f'{c} {s:.1f}' for c, s in list(zip(classes, conf))[:6])
    if meta.get('answer') is not None:
        head += f'  answer: {meta["answer"]}'
    if 'mc_label' in sample:
        head += f'  correct option: {int(sample.mc_label)}'
    for skipped in meta.get('bad_samples', []):
        head += f'\n(replaced bad sample {skipped["path"]}: ' \
                f'{skipped["reason"]})'
    return dict(frames=drawn,
                text=head + '\n' + marked_text(sample, tokenizer))


def main(argv=None):
    args = parse_args(argv)
    from stoavlp.registry import DATASETS
    from stoavlp.utils import register_all_modules
    from stoavlp.visualization import make_contact_sheet
    register_all_modules()

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    loader = cfg.get(f'{args.phase}_dataloader')
    if not loader:
        raise SystemExit(f'{args.config} has no {args.phase}_dataloader')
    start = time.time()
    dataset = DATASETS.build(loader['dataset'])
    print(f'{type(dataset).__name__}: {len(dataset)} items '
          f'(built in {time.time() - start:.1f} s)')
    tokenizer = find_tokenizer(dataset)

    rng = np.random.default_rng(args.seed)
    indices = rng.choice(len(dataset), min(args.num, len(dataset)),
                         replace=False)
    rows = []
    start = time.time()
    for idx in tqdm(indices, desc='samples', unit='sample'):
        rows.append(sample_row(dataset[int(idx)], tokenizer, args.frames))
    print(f'{len(rows)} samples through the pipeline in '
          f'{time.time() - start:.1f} s')

    out = args.out or osp.join(
        'work_dirs',
        f'browse_{osp.splitext(osp.basename(args.config))[0]}.png')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    make_contact_sheet(rows, out, title=f'{osp.basename(args.config)} '
                       f'({args.phase})')
    print(f'picture: {out}')


if __name__ == '__main__':
    main()
