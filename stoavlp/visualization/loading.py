"""Datasets, samples and models of a config, for the visualisation tools
(``tools/analysis_tools/visualize_clip.py``, ``visualize_retrieval.py``).

Letters: B batch, T frames, H x W frame size.
"""
from typing import List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate


def pick_phase(cfg: Config, phase: str = 'auto') -> str:
    """``phase`` itself, or for ``'auto'`` the first of test / val / train
    the config has a dataloader for."""
    if phase != 'auto':
        if not cfg.get(f'{phase}_dataloader'):
            raise SystemExit(f'the config has no {phase}_dataloader')
        return phase
    for candidate in ('test', 'val', 'train'):
        if cfg.get(f'{candidate}_dataloader'):
            return candidate
    raise SystemExit('the config has no train/val/test dataloader')


def build_dataset(cfg: Config, phase: str):
    """The dataset (with its whole pipeline) of ``<phase>_dataloader``."""
    from stoavlp.registry import DATASETS
    return DATASETS.build(cfg.get(f'{phase}_dataloader')['dataset'])


def pipeline_transform(dataset, type_name: str):
    """The first transform of the dataset's pipeline named ``type_name``,
    or None (a ``ConcatDataset``: its first dataset's pipeline)."""
    while not hasattr(dataset, 'pipeline') and hasattr(dataset, 'datasets'):
        dataset = dataset.datasets[0]
    for transform in dataset.pipeline.transforms:
        if type(transform).__name__ == type_name:
            return transform
    return None


def pipeline_tokenizer(dataset):
    """The CLIP tokenizer of the dataset's ``TokenizeText``, or None."""
    transform = pipeline_transform(dataset, 'TokenizeText')
    return None if transform is None else transform.tokenizer


def index_of_video(dataset, video_id: str) -> int:
    """Index of the first item whose annotation has ``video_id``."""
    for index in range(len(dataset)):
        if dataset.get_data_info(index).get('video_id') == video_id:
            return index
    raise SystemExit(f'no item with video_id {video_id!r} in the dataset')


def load_model(cfg: Config, checkpoint: str,
               device: Optional[str] = None) -> torch.nn.Module:
    """``cfg.model`` with the ``checkpoint`` weights, in eval mode, on
    ``device`` (default: CUDA when available)."""
    from mmengine.runner import load_checkpoint

    from stoavlp.registry import MODELS
    model = MODELS.build(cfg.model)
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True,
                    logger='silent')
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    return model.to(device).eval()


def preprocess(model: torch.nn.Module,
               items: Sequence[dict]) -> Tuple[torch.Tensor, List]:
    """Dataset items -> the model's ``(inputs (B, T, 3, H, W), data_samples)``
    (collated, normalised, on the model's device); the items are kept."""
    data = model.data_preprocessor(pseudo_collate(list(items)), False)
    return data['inputs'], data['data_samples']


def video_frames(path: str, num_frames: int = 3):
    """``num_frames`` evenly spaced frames ``(H, W, 3)`` uint8 RGB of a
    video file (1: the middle one), decoded with decord."""
    import decord
    import numpy as np
    reader = decord.VideoReader(path, num_threads=1)
    total = len(reader)
    if num_frames == 1:
        index = [total // 2]
    else:
        index = np.round(np.linspace(0, total - 1, num_frames + 2)[1:-1])
    return list(reader.get_batch([int(i) for i in index]).asnumpy())
