"""Command-line options shared by the demo scripts (``demo/``) and
``tools/misc/extract_features.py``: the model, where objects come from,
the device."""
import argparse
from typing import Dict

from mmengine.config import DictAction


def add_inference_args(parser: argparse.ArgumentParser,
                       model: bool = True) -> argparse.ArgumentParser:
    """``CONFIG CHECKPOINT`` (when ``model``), ``--detector CFG CKPT``,
    ``--objects-dir DIR``, ``--video-root DIR``, ``--device``."""
    if model:
        parser.add_argument('config', help='model config (or model-index '
                            'name)')
        parser.add_argument('checkpoint', help='model weights')
    objects = parser.add_mutually_exclusive_group()
    objects.add_argument('--detector', nargs=2, metavar=('CONFIG', 'CKPT'),
                         help='an mmdet detector run on the sampled frames')
    objects.add_argument('--objects-dir',
                         help='detection files mirroring the video paths')
    parser.add_argument('--video-root', help='what video paths are '
                        'relative to for --objects-dir (default: their '
                        'folder)')
    parser.add_argument('--device', default='cpu')
    if model:
        parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                            help='override model config settings, key=value')
    return parser


def inference_parser(doc: str) -> argparse.ArgumentParser:
    """A parser described by ``doc``'s first line, with
    :func:`add_inference_args`."""
    return add_inference_args(
        argparse.ArgumentParser(description=doc.split('\n')[0]))


def inferencer_kwargs(args: argparse.Namespace) -> Dict:
    """Keyword arguments of an inferencer from :func:`add_inference_args`
    options (without objects: none, warned once by the inferencer)."""
    kwargs = dict(device=args.device, objects_dir=args.objects_dir,
                  video_root=args.video_root)
    if args.detector:
        kwargs['detector'] = dict(config=args.detector[0],
                                  checkpoint=args.detector[1],
                                  device=args.device)
    return kwargs


def load_model(args: argparse.Namespace):
    """The model of ``args.config`` / ``args.checkpoint``; the project's
    own training checkpoints are trusted here (``stoavlp.compat``)."""
    from stoavlp.compat import trusted_checkpoints

    from .model import init_model
    with trusted_checkpoints():
        return init_model(args.config, args.checkpoint, args.device,
                          cfg_options=args.cfg_options)
