"""tools/data/pos_tag.py: input formats, resume, errors."""
import importlib.util
import json
import os.path as osp

import pytest

from stoavlp.datasets.text.pos_tagger import SpacyPOSTagger, read_tag_cache

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def pos_tag():
    spec = importlib.util.spec_from_file_location(
        'pos_tag_tool', osp.join(ROOT, 'tools', 'data', 'pos_tag.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(path, text):
    path.write_text(text, encoding='utf-8')
    return str(path)


def test_iter_texts_formats(pos_tag, tmp_path):
    msrvtt = _write(
        tmp_path / 'MSRVTT_data.json',
        json.dumps({
            'videos': [],
            'sentences': [{
                'caption': 'a man cooks',
                'video_id': 'video0'
            }, {
                'caption': 'a dog runs',
                'video_id': 'video1'
            }]
        }))
    clip4clip = _write(tmp_path / 'MSRVTT_JSFUSION_test.csv',
                       'key,vid_key,video_id,sentence\n'
                       'ret0,msr7020,video7020,"a girl, singing"\n')
    webvid = _write(
        tmp_path / 'results_2M_val.csv',
        'videoid,contentUrl,duration,page_dir,name\n'
        '1,http://x/1.mp4,PT00H00M10S,dir,Aerial view of a lake\n')
    lst = _write(
        tmp_path / 'ann.json',
        json.dumps([{
            'video': 'a.mp4',
            'caption': ['one cat', 'two cats']
        }, {
            'video': 'b.mp4',
            'caption': 'a bird'
        }, {
            'video': 'c.mp4',
            'question': 'what is the man doing?'
        }]))
    dct = _write(tmp_path / 'caps.json',
                 json.dumps({
                     'vid1': ['a car drives', 'a red car'],
                     'vid2': ['a boat']
                 }))
    lsmdc = _write(
        tmp_path / 'LSMDC16_annos_test.csv',
        '0001_A\t00.00\t01.00\t00.00\t01.00\tSOMEONE opens the door.\n'
        '0001_B\t01.00\t02.00\t01.00\t02.00\tHe walks in.\n')
    assert list(pos_tag.iter_texts(msrvtt)) == ['a man cooks', 'a dog runs']
    assert list(pos_tag.iter_texts(clip4clip)) == ['a girl, singing']
    assert list(pos_tag.iter_texts(webvid)) == ['Aerial view of a lake']
    assert list(pos_tag.iter_texts(lst)) == [
        'one cat', 'two cats', 'a bird', 'what is the man doing?'
    ]
    assert list(pos_tag.iter_texts(dct)) == [
        'a car drives', 'a red car', 'a boat'
    ]
    assert list(pos_tag.iter_texts(lsmdc)) == [
        'SOMEONE opens the door.', 'He walks in.'
    ]


def test_iter_texts_malformed(pos_tag, tmp_path):
    bad_csv = _write(tmp_path / 'bad.csv', 'key,sentence\n'
                     'a,fine caption\n'
                     'b\n')
    with pytest.raises(ValueError, match=r'bad\.csv: line 3'):
        list(pos_tag.iter_texts(bad_csv))
    bad_json = _write(tmp_path / 'bad.json',
                      json.dumps([{
                          'caption': 'ok'
                      }, {
                          'video': 'x'
                      }]))
    with pytest.raises(ValueError, match=r'bad\.json: entry \[1\]'):
        list(pos_tag.iter_texts(bad_json))
    bad_lsmdc = _write(tmp_path / 'bad_lsmdc.csv', 'a\tb\tc\td\te\tok\n'
                       'a\tb\tc\n')
    with pytest.raises(ValueError, match=r'bad_lsmdc\.csv: line 2'):
        list(pos_tag.iter_texts(bad_lsmdc))
    no_col = _write(tmp_path / 'nocol.csv', 'a,b\n1,2\n')
    with pytest.raises(ValueError, match='no "sentence" or "name"'):
        list(pos_tag.iter_texts(no_col))


def test_end_to_end_with_resume(pos_tag, tmp_path, capsys):
    captions = [f'a man is slicing a tomato {i}' for i in range(20)]
    ann = _write(tmp_path / 'ann.json',
                 json.dumps([{
                     'caption': c
                 } for c in captions + captions[:5]]))
    out = str(tmp_path / 'tags' / 'pos.jsonl')
    summary = pos_tag.main([ann, '--out', out, '--batch-size', '8'])
    assert summary['tagged'] == 20 and summary['skipped'] == 0
    assert 'tagged 20' in capsys.readouterr().out
    full = open(out, encoding='utf-8').read()
    lines = full.splitlines()
    assert len(lines) == 20
    first = json.loads(lines[0])
    text = first['text']
    assert [text[s:e] for s, e, _ in first['tags']] == ['man', 'slicing',
                                                        'tomato']

    # Simulate a crash mid-line: keep 12 lines and half of the 13th.
    cut = len('\n'.join(lines[:12])) + 1 + len(lines[12]) // 2
    with open(out, 'w', encoding='utf-8') as f:
        f.write(full[:cut])
    summary = pos_tag.main([ann, '--out', out, '--batch-size', '8'])
    assert summary['tagged'] == 8 and summary['skipped'] == 12
    texts = [json.loads(line)['text'] for line in open(out, encoding='utf-8')]
    assert sorted(texts) == sorted(captions)  # complete, no duplicates
    assert len(read_tag_cache(out)) == 20  # parses cleanly

    # A complete last line that only lost its newline is kept.
    with open(out, 'rb+') as f:
        f.truncate(len(open(out, 'rb').read()) - 1)
    summary = pos_tag.main([ann, '--out', out])
    assert summary['tagged'] == 0 and summary['skipped'] == 20
    assert len(open(out, encoding='utf-8').read().splitlines()) == 20

    # The cache is what SpacyPOSTagger reads.
    tagger = SpacyPOSTagger(cache_file=out)
    assert tagger(text) == [tuple(t) for t in first['tags']]
    assert tagger._nlp is None
