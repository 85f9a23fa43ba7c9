"""Answer vocabularies of open-ended video QA (classes of the QA head)."""
import json
import os.path as osp
from collections import Counter
from functools import lru_cache
from typing import List


def normalize_answer(answer: str) -> str:
    """Lower-case, strip and collapse spaces (QAAccuracy does the same)."""
    return ' '.join(str(answer).lower().split())


@lru_cache(maxsize=8)
def _vocab(path: str, mtime: float, size: int) -> tuple:
    with open(path, encoding='utf-8') as f:
        entries = json.load(f)
    counts = Counter(normalize_answer(e['answer']) for e in entries)
    # most frequent first; ties alphabetical, so the order is reproducible
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(answer for answer, _ in ranked[:size])


def build_answer_vocab(ann_file: str, size: int) -> List[str]:
    """The ``size`` most frequent answers of a QA annotation file.

    The common classifier setup of MSRVTT-QA (1500 answers) and MSVD-QA
    (1000): built from the *training* file, shared by the dataset (labels)
    and the QA head (classes).

    Args:
        ann_file (str): A QA json list with ``answer`` fields.
        size (int): Number of answer classes.
    """
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'Answer vocabulary source not found: '
                                f'{ann_file}')
    return list(_vocab(osp.abspath(ann_file), osp.getmtime(ann_file), size))
