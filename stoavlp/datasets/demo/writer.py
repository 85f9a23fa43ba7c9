"""Annotation files of the demo dataset, in the real datasets' layouts.

Every writer takes the list of clip records built by
:mod:`stoavlp.datasets.demo.generate` (one dict per clip with ``video_id``,
``index``, ``split``, ``captions``, ``sentences``, ``qa`` ...) and writes
files with the names, columns and JSON keys of the original releases, so the
project's dataset classes read the demo data unchanged. Paths inside files
are relative and nothing depends on the time or the machine, so the same
clips always give byte-identical files.
"""
import csv
import json
import os
import os.path as osp
from typing import Dict, List, Sequence

# Our split names -> the short names used by most file layouts.
SHORT_SPLIT = {'train': 'train', 'validate': 'val', 'test': 'test'}


def write_json(path: str, obj, indent=None) -> None:
    """Deterministic JSON (key order as built, ``\\n`` at the end)."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w', encoding='utf-8', newline='\n') as f:
        json.dump(obj, f, indent=indent, ensure_ascii=False)
        f.write('\n')


def _write_rows(path: str, rows: Sequence[Sequence], header=None,
                delimiter: str = ',') -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w', encoding='utf-8', newline='') as f:
        writer = csv.writer(f, delimiter=delimiter, lineterminator='\n')
        if header:
            writer.writerow(header)
        writer.writerows(rows)


def _write_lines(path: str, lines: Sequence[str]) -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w', encoding='utf-8', newline='\n') as f:
        f.writelines(f'{line}\n' for line in lines)


def _by_split(clips: Sequence[dict]) -> Dict[str, List[dict]]:
    out = {'train': [], 'validate': [], 'test': []}
    for c in clips:
        out[c['split']].append(c)
    return out


def _timestamp(seconds: float) -> str:
    """LSMDC time format ``HH.MM.SS.mmm``."""
    ms = int(round(seconds * 1000))
    return (f'{ms // 3600000:02d}.{ms // 60000 % 60:02d}.'
            f'{ms // 1000 % 60:02d}.{ms % 1000:03d}')


def write_msrvtt(out: str, clips: Sequence[dict], duration: float,
                 info: dict) -> List[str]:
    """MSR-VTT in the CLIP4Clip layout.

    ``MSRVTT_data.json`` (all videos and sentences), ``MSRVTT_train.9k.csv``
    (train + validate), ``MSRVTT_train.7k.csv`` (train) and
    ``MSRVTT_JSFUSION_test.csv`` (one caption per test video).
    """
    videos, sentences = [], []
    for c in clips:
        videos.append({
            'category': 0, 'url': f"https://example.invalid/{c['video_id']}",
            'video_id': c['video_id'], 'start time': 0.0,
            'end time': duration, 'split': c['split'], 'id': c['index']})
        for cap in c['captions']:
            sentences.append({'caption': cap, 'video_id': c['video_id'],
                              'sen_id': len(sentences)})
    write_json(osp.join(out, 'MSRVTT_data.json'),
               {'info': info, 'videos': videos, 'sentences': sentences})
    split = _by_split(clips)
    _write_rows(osp.join(out, 'MSRVTT_train.9k.csv'),
                [[c['video_id']] for c in split['train'] + split['validate']],
                header=['video_id'])
    _write_rows(osp.join(out, 'MSRVTT_train.7k.csv'),
                [[c['video_id']] for c in split['train']],
                header=['video_id'])
    _write_rows(osp.join(out, 'MSRVTT_JSFUSION_test.csv'),
                [[f'ret{i}', f"msr{c['index']}", c['video_id'],
                  c['captions'][0]] for i, c in enumerate(split['test'])],
                header=['key', 'vid_key', 'video_id', 'sentence'])
    return ['MSRVTT_data.json', 'MSRVTT_train.9k.csv', 'MSRVTT_train.7k.csv',
            'MSRVTT_JSFUSION_test.csv']


def _qa_items(clips: Sequence[dict], video_id_of, start_id: int = 0):
    """QA items per split with ids unique over all splits."""
    out, next_id = {}, start_id
    for split, items in _by_split(clips).items():
        rows = []
        for c in items:
            for qa in c['qa']:
                rows.append({'question': qa['question'],
                             'answer': qa['answer'],
                             'video_id': video_id_of(c), 'id': next_id,
                             'category_id': qa['category_id']})
                next_id += 1
        out[split] = rows
    return out


def write_msrvtt_qa(out: str, clips: Sequence[dict]) -> List[str]:
    """MSRVTT-QA original format: ``msrvtt_qa/{train,val,test}_qa.json``."""
    files = []
    for split, rows in _qa_items(clips, lambda c: c['index']).items():
        name = f'msrvtt_qa/{SHORT_SPLIT[split]}_qa.json'
        write_json(osp.join(out, name), rows)
        files.append(name)
    return files


def write_msrvtt_mc(out: str, items: Sequence[dict],
                    split: str = 'test') -> List[str]:
    """MSR-VTT multiple choice (VindLU / mmaction2 ``msrvtt_mc_test.json``).

    Args:
        items: ``{"video": "videoN.mp4", "caption": [5 str], "answer": int,
            "kinds": [5 str]}`` (``kinds`` is the demo's extra: which
            options are one-attribute edits).
        split: ``'test'``, ``'val'`` or ``'train'``.
    """
    name = f'msrvtt_mc/msrvtt_mc_{split}.json'
    write_json(osp.join(out, name), list(items))
    return [name]


def write_webvid(out: str, clips: Sequence[dict],
                 duration: float) -> List[str]:
    """WebVid-2M csv: one row per (train clip, caption).

    ``page_dir`` is empty: with ``data_prefix=dict(video='videos',
    objects='objects')`` the clip is ``videos/<videoid>.mp4`` and its
    detections ``objects/<videoid>.json``, shared with the other formats.
    """
    secs = int(-(-duration // 1))   # WebVid durations are whole seconds
    train = _by_split(clips)['train']
    rows = [[c['video_id'], f"https://example.invalid/{c['video_id']}.mp4",
             f'PT00H{secs // 60:02d}M{secs % 60:02d}S', '', cap]
            for c in train for cap in c['captions']]
    name = 'webvid/demo_train.csv'
    _write_rows(osp.join(out, name), rows,
                header=['videoid', 'contentUrl', 'duration', 'page_dir',
                        'name'])
    return [name]


def write_msvd(out: str, clips: Sequence[dict]) -> List[str]:
    """MSVD in the CLIP4Clip layout (json captions) plus MSVD-QA.

    Clip names are the video stems, so ``videos/`` is shared. MSVD-QA refers
    to clips by the ``k`` of ``vid<k>`` in ``youtube_mapping.txt``.
    """
    files = []
    for split, items in _by_split(clips).items():
        name = f'msvd/{SHORT_SPLIT[split]}_list.txt'
        _write_lines(osp.join(out, name), [c['video_id'] for c in items])
        files.append(name)
    write_json(osp.join(out, 'msvd/raw-captions.json'),
               {c['video_id']: list(c['captions']) for c in clips})
    _write_lines(osp.join(out, 'msvd/youtube_mapping.txt'),
                 [f"{c['video_id']} vid{c['index'] + 1}" for c in clips])
    files += ['msvd/raw-captions.json', 'msvd/youtube_mapping.txt']
    for split, rows in _qa_items(clips, lambda c: c['index'] + 1).items():
        name = f'msvd/msvd_qa/{SHORT_SPLIT[split]}_qa.json'
        write_json(osp.join(out, name), rows)
        files.append(name)
    return files


def write_lsmdc(out: str, clips: Sequence[dict],
                duration: float) -> List[str]:
    """LSMDC16 tab-separated files (no header, 6 columns).

    ``clip_id, start_aligned, end_aligned, start_extracted, end_extracted,
    sentence``; one line per caption, except the public test file which has
    one caption per clip, as in the challenge release.
    """
    end = _timestamp(duration)
    start = _timestamp(0)

    def rows(items, all_captions):
        return [[c['video_id'], start, end, start, end, cap]
                for c in items
                for cap in (c['captions'] if all_captions
                            else c['captions'][:1])]

    split = _by_split(clips)
    names = {'train': 'lsmdc/LSMDC16_annos_training.csv',
             'validate': 'lsmdc/LSMDC16_annos_val.csv',
             'test': 'lsmdc/LSMDC16_challenge_1000_publictect.csv'}
    for key, name in names.items():
        _write_rows(osp.join(out, name), rows(split[key], key != 'test'),
                    delimiter='\t')
    return list(names.values())


def write_didemo(out: str, clips: Sequence[dict]) -> List[str]:
    """DiDeMo lists and data json (a few sentences per clip).

    Each clip is shorter than one 5 s DiDeMo segment, so every sentence spans
    segment 0: ``"times": [[0, 0]]``.
    """
    files = []
    for split, items in _by_split(clips).items():
        short = SHORT_SPLIT[split]
        _write_lines(osp.join(out, f'didemo/{short}_list.txt'),
                     [f"{c['video_id']}.mp4" for c in items])
        data = [{'video': f"{c['video_id']}.mp4", 'times': [[0, 0]],
                 'description': s}
                for c in items for s in c['sentences']]
        write_json(osp.join(out, f'didemo/{short}_data.json'), data)
        files += [f'didemo/{short}_list.txt', f'didemo/{short}_data.json']
    return files
