"""Draw one clip of a config's dataset, with what a model makes of it.

    python tools/analysis_tools/visualize_clip.py CONFIG [CHECKPOINT]
        (--index I | --video-id ID) --out DIR [--gif] [--phase auto]
        [--frames 8] [--cfg-options ...]

The clip goes through the config's real data pipeline (``--phase``: by
default the first of test/val/train the config has). The picture
(``DIR/<video_id>_0.png``) shows the sampled frames with the object boxes
coloured by trajectory, each trajectory's track, and the caption. With a
CHECKPOINT the config's model is loaded and adds what it matched: for a
pre-training model the noun OTA matched to each trajectory and the verb ASP
matched to each action token (``STOAVLPPretrainer.explain``), for a
captioning model the generated caption. ``--gif`` also writes
``DIR/<video_id>_0.gif``, the frames with boxes.
"""
import argparse
import os.path as osp
import time

from mmengine.config import Config, DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='a config with a model and loaders')
    parser.add_argument('checkpoint', nargs='?', help='model weights')
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument('--index', type=int, help='dataset index')
    which.add_argument('--video-id', help='the first item of this video')
    parser.add_argument('--out', required=True, help='output directory')
    parser.add_argument('--gif', action='store_true', help='also a GIF')
    parser.add_argument('--phase', default='auto',
                        choices=['auto', 'train', 'val', 'test'])
    parser.add_argument('--frames', type=int, default=None,
                        help='frames on the sheet (default all)')
    parser.add_argument('--device', default=None, help='default: cuda if any')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def model_outputs(model, item):
    """``(data_sample with pred_caption if any, explanation or None)`` of
    one dataset item."""
    import torch

    from stoavlp.visualization.loading import preprocess
    inputs, samples = preprocess(model, [item])
    explanation = None
    with torch.no_grad():
        if hasattr(model, 'explain'):
            explanation = model.explain(inputs, samples)[0]
        if hasattr(model, 'generate'):  # captioning: sets pred_caption
            samples = model.predict(inputs, samples)
    return samples[0].cpu(), explanation


def main(argv=None):
    from stoavlp.compat import trusted_checkpoints
    args = parse_args(argv)
    from stoavlp.utils import register_all_modules
    from stoavlp.visualization import VideoTextVisualizer
    from stoavlp.visualization.loading import (build_dataset, index_of_video,
                                               load_model, pick_phase,
                                               pipeline_tokenizer)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    phase = pick_phase(cfg, args.phase)
    start = time.time()
    dataset = build_dataset(cfg, phase)
    index = args.index if args.video_id is None else index_of_video(
        dataset, args.video_id)
    if not 0 <= index < len(dataset):
        raise SystemExit(f'--index {index} outside [0, {len(dataset)})')
    item = dataset[index]
    sample = item['data_samples']
    print(f'{type(dataset).__name__} ({phase}): item {index} of '
          f'{len(dataset)}, {sample.metainfo.get("video_id")} through the '
          f'pipeline in {time.time() - start:.1f} s')

    explanation = None
    if args.checkpoint:
        start = time.time()
        with trusted_checkpoints():  # the project's own runs
            model = load_model(cfg, args.checkpoint, args.device)
        sample, explanation = model_outputs(model, item)
        print(f'{type(model).__name__} from {args.checkpoint}: ran in '
              f'{time.time() - start:.1f} s')

    name = str(sample.metainfo.get('video_id', f'item{index}'))
    visualizer = VideoTextVisualizer(
        name=f'visualize_clip_{time.time_ns()}',
        vis_backends=[dict(type='LocalVisBackend', save_dir=args.out,
                           img_save_dir='.')],
        tokenizer=pipeline_tokenizer(dataset))
    drawing = visualizer.add_datasample(
        name, item['inputs'], sample, explanation, draw_gif=args.gif,
        max_frames=args.frames)
    for line in drawing['lines']:
        print(line)
    print(f'picture: {osp.join(args.out, name + "_0.png")}')
    if args.gif:
        print(f'animation: {osp.join(args.out, name + "_0.gif")}')
    return drawing


if __name__ == '__main__':
    main()
