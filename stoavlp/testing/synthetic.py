"""Packed video-text samples with random content, as the pipeline makes.

Letters: T frames, K boxes per frame, L text length.
"""
from typing import List, Tuple

import torch

from stoavlp.structures import VideoTextDataSample


def _trajectory_labels(g: torch.Generator, frames: int, objects: int,
                       classes: int, boxes_per_class: Tuple[int, int]
                       ) -> torch.Tensor:
    """``(T, K)`` labels: each class on a few frames, one box per frame
    (as the official filter keeps), -1 for empty slots."""
    labels = torch.full((frames, objects), -1)
    for c in range(classes):
        n = int(torch.randint(boxes_per_class[0], boxes_per_class[1] + 1,
                              (1, ), generator=g))
        for f in torch.randperm(frames, generator=g)[:n].tolist():
            free = (labels[f] < 0).nonzero().flatten()
            if len(free):
                labels[f, free[0]] = c
    return labels


def model_input_batch(model_cfg, batch: int, frames: int = None, seed: int = 0
                      ) -> Tuple[List[torch.Tensor],
                                 List[VideoTextDataSample], int]:
    """A synthetic batch shaped like a model config's input: its frames
    (the trajectory encoder's, else 12), its image size, 10 boxes a frame,
    32-token captions. Returns ``(inputs, data_samples, frames)``."""
    video = model_cfg.video_encoder
    frames = frames or (video.trajectory_encoder.num_frames
                        if video.get('trajectory_encoder') else 12)
    inputs, samples = synthetic_batch(
        batch, frames=frames, objects=10, classes=8, length=32,
        size=video.backbone.image_size, boxes_per_class=(3, 6),
        seed=seed)
    return inputs, samples, frames


def synthetic_batch(batch: int = 3,
                    frames: int = 4,
                    objects: int = 4,
                    classes: int = 3,
                    length: int = 12,
                    size: int = 32,
                    seed: int = 0,
                    boxes_per_class: Tuple[int, int] = (1, 4),
                    with_objects: bool = True,
                    with_nouns: bool = True,
                    with_verbs: bool = True
                    ) -> Tuple[List[torch.Tensor], List[VideoTextDataSample]]:
    """``(inputs, data_samples)`` like ``PackVideoTextInputs`` output.

    Args:
        batch (int): Samples.
        frames (int): T.
        objects (int): K.
        classes (int): Object classes per clip (labels ``0..classes-1``).
        length (int): L; captions fill 3 to L - 3 word tokens.
        size (int): Frame height and width.
        seed (int): Everything is drawn from this seed.
        boxes_per_class (tuple): Range of boxes per class per clip.
        with_objects, with_nouns, with_verbs (bool): False empties them.
    """
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(batch):
        inputs.append(torch.randint(0, 256, (frames, 3, size, size),
                                    generator=g, dtype=torch.uint8))
        labels = _trajectory_labels(g, frames, objects, classes,
                                    boxes_per_class)
        if not with_objects:
            labels[:] = -1
        mask = labels >= 0
        xy = torch.rand(frames, objects, 2, generator=g) * (size * 0.7)
        wh = size * (0.1 + torch.rand(frames, objects, 2, generator=g) * 0.2)
        boxes = torch.cat([xy, (xy + wh).clamp(max=size)], -1)
        n_words = int(torch.randint(3, length - 2, (1, ), generator=g))
        ids = torch.zeros(length, dtype=torch.long)
        ids[0], ids[n_words + 1] = 49406, 49407
        ids[1:n_words + 1] = torch.randint(1, 49000, (n_words, ),
                                           generator=g)
        words = torch.zeros(length, dtype=torch.bool)
        words[1:n_words + 1] = True
        noun = words & (torch.rand(length, generator=g) < 0.4)
        verb = words & ~noun & (torch.rand(length, generator=g) < 0.4)
        sample = VideoTextDataSample()
        sample.set_data(dict(
            token_ids=ids,
            attention_mask=(torch.arange(length) <= n_words + 1).long(),
            noun_mask=noun if with_nouns else torch.zeros_like(noun),
            verb_mask=verb if with_verbs else torch.zeros_like(verb),
            obj_boxes=boxes * mask[..., None], obj_labels=labels,
            obj_mask=mask, obj_scores=mask.float()))
        samples.append(sample)
    return inputs, samples
