"""Write mmaction2 ``VideoDataset`` annotation files from the demo data.

    python projects/stoa_action_recognition/tools/make_action_annotations.py \
        data/demo [--out-dir DIR]

One list per split (``train.txt``, ``val.txt``, ``test.txt``; the demo's
``validate`` split is ``val``), in the multi-label layout of
``VideoDataset(multi_class=True)``: the video path relative to the data
root, then the sorted ids of the distinct actions of the clip's objects::

    videos/video0.mp4 3 6

``classes.txt`` lists the action names, one a line, in id order (the demo's
``meta['actions']`` order). Every video's detection file must sit where the
pipeline's ``AddDetectionPath`` looks for it (checked here).
"""
import argparse
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

#: demo split name -> annotation file stem
SPLITS = {'train': 'train', 'validate': 'val', 'test': 'test'}


def clip_action_ids(clip: dict, actions: Sequence[str]) -> List[int]:
    """Sorted ids of the distinct actions of a clip's objects."""
    return sorted({actions.index(obj['action']) for obj in clip['objects']})


def mirrored_detection_path(video: str) -> str:
    """Where ``AddDetectionPath()`` (default arguments) expects the
    detection file of ``video`` (both relative to the data root)."""
    stem = osp.splitext(osp.basename(video))[0]
    return osp.normpath(
        osp.join(osp.dirname(video), '..', 'objects', stem + '.json'))


def make_action_annotations(data_root: str,
                            out_dir: Optional[str] = None
                            ) -> Dict[str, str]:
    """Write the split lists and ``classes.txt``.

    Args:
        data_root (str): The demo data folder (holds ``meta.json``).
        out_dir (str, optional): Where the files go. Defaults to
            ``<data_root>/action_recognition``.

    Returns:
        dict: ``{'train': path, 'val': path, 'test': path,
        'classes': path}``.
    """
    with open(osp.join(data_root, 'meta.json'), encoding='utf-8') as f:
        meta = json.load(f)
    actions = list(meta['actions'])
    out_dir = out_dir or osp.join(data_root, 'action_recognition')
    os.makedirs(out_dir, exist_ok=True)

    lines = {stem: [] for stem in SPLITS.values()}
    for clip in meta['clips']:
        if clip['split'] not in SPLITS:
            raise ValueError(f'{clip["video_id"]}: unknown split '
                             f'{clip["split"]!r}')
        if mirrored_detection_path(clip['video']) != osp.normpath(
                clip['detections']):
            raise ValueError(
                f'{clip["video_id"]}: detections {clip["detections"]!r} are '
                f'not where AddDetectionPath looks '
                f'({mirrored_detection_path(clip["video"])!r})')
        if ' ' in clip['video']:
            raise ValueError(f'{clip["video"]!r}: VideoDataset splits lines '
                             'at spaces')
        ids = clip_action_ids(clip, actions)
        lines[SPLITS[clip['split']]].append(
            ' '.join([clip['video']] + [str(i) for i in ids]))

    paths = {}
    for stem, rows in lines.items():
        paths[stem] = osp.join(out_dir, f'{stem}.txt')
        with open(paths[stem], 'w', encoding='utf-8') as f:
            f.writelines(row + '\n' for row in rows)
    paths['classes'] = osp.join(out_dir, 'classes.txt')
    with open(paths['classes'], 'w', encoding='utf-8') as f:
        f.writelines(a + '\n' for a in actions)
    return paths


def label_frequency(ann_file: str, num_classes: int) -> List[float]:
    """Fraction of the clips of a multi-label list that show each class.

    The mean of these is the expected mAP of random scores (chance)."""
    counts, clips = [0] * num_classes, 0
    with open(ann_file, encoding='utf-8') as f:
        for line in f:
            if not line.strip():
                continue
            clips += 1
            for i in line.split()[1:]:
                counts[int(i)] += 1
    return [c / max(clips, 1) for c in counts]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('data_root', help='demo data folder (meta.json)')
    parser.add_argument('--out-dir', help='default: DATA_ROOT/'
                        'action_recognition')
    args = parser.parse_args(argv)
    paths = make_action_annotations(args.data_root, args.out_dir)
    with open(paths['classes'], encoding='utf-8') as f:
        num_classes = len(f.read().split())
    for stem in SPLITS.values():
        freq = label_frequency(paths[stem], num_classes)
        with open(paths[stem], encoding='utf-8') as f:
            clips = sum(1 for line in f if line.strip())
        print(f'{paths[stem]}: {clips} clips, chance mAP (mean label '
              f'frequency) {sum(freq) / len(freq):.4f}')


if __name__ == '__main__':
    main()
