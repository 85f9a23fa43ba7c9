"""Caption tokenization with noun/verb token masks."""
import numpy as np
from mmcv.transforms import BaseTransform

from stoavlp.datasets.text import CLIPTokenizer, SpacyPOSTagger  # noqa: F401
from stoavlp.registry import TOKENIZERS, TRANSFORMS

_PIECE_RULES = ('last', 'first', 'all')
_DEFAULT_KEYS = dict(
    text='text',
    token_ids='token_ids',
    attention_mask='attention_mask',
    noun_mask='noun_mask',
    verb_mask='verb_mask')


def _build(cfg):
    if cfg is None or not isinstance(cfg, dict):
        return cfg  # None, or an already built object
    return TOKENIZERS.build(cfg)


def word_token_mask(word_spans, offsets, length, rule='last'):
    """Mark the BPE tokens of words.

    Args:
        word_spans (Sequence[tuple[int, int]]): Character spans of words.
        offsets (np.ndarray): (m, 2) character spans of ALL m BPE pieces of
            the text (untruncated, no special tokens).
        length (int): Context length L; piece ``p`` sits at position
            ``p + 1`` (after SOT) and is kept iff ``p + 1 < L - 1``.
        rule (str): ``'last'``, ``'first'`` or ``'all'`` pieces of a word.

    Returns:
        np.ndarray: (L,) bool mask.
    """
    mask = np.zeros((length, ), dtype=bool)
    if not len(offsets):
        return mask
    starts, ends = offsets[:, 0], offsets[:, 1]
    for s, e in word_spans:
        # Pieces overlapping the word. A piece crossing a word boundary
        # (spaCy "do|n't" vs BPE "don|'t") belongs to both words.
        hit = np.nonzero((starts < e) & (ends > s))[0]
        if not len(hit):
            continue
        if rule == 'last':
            hit = hit[-1:]
        elif rule == 'first':
            hit = hit[:1]
        pos = hit + 1
        mask[pos[pos < length - 1]] = True
    return mask


@TRANSFORMS.register_module()
class TokenizeText(BaseTransform):
    """Tokenize captions with CLIP BPE and mark noun and verb tokens.

    Noun/verb masks come from spaCy word spans aligned to BPE tokens through
    character offsets. For a word split into several BPE pieces,
    ``piece_rule`` chooses which pieces count:

    - ``'last'`` (default): only the last piece. CLIP's text encoder is
      causal, so only the last piece's output has attended to the whole
      word. If that piece is truncated away, the word is not marked.
    - ``'first'``: only the first piece.
    - ``'all'``: every piece.

    Special tokens and padding are never nouns/verbs; tokens truncated away
    are simply absent. A caption without nouns or verbs is a valid sample
    with all-zero masks.

    Required Keys:

    - text (str | list[str]): One caption, or n captions.

    Optional Keys:

    - text_tags (list): Precomputed word spans ``[start, end, tag]`` of the
      caption (a list of such lists for n captions), e.g. stored in tar
      shards by ``tools/data/make_shards.py``; the tagger is then not run.

    Added Keys:

    - token_ids (np.ndarray): int64, (L,) for a str, (n, L) for a list;
      SOT + BPE ids + EOT, padded with 0.
    - attention_mask (np.ndarray): int64, same shape, 1 on SOT..EOT.
    - noun_mask (np.ndarray): bool, same shape.
    - verb_mask (np.ndarray): bool, same shape.

    Args:
        tokenizer (dict | CLIPTokenizer, optional): Config (``TOKENIZERS``)
            or object. None means ``dict(type='CLIPTokenizer',
            max_length=32)``.
        pos_tagger (dict | SpacyPOSTagger | str, optional): Config or
            object; ``None`` gives all-zero noun/verb masks. Defaults to
            ``'default'``, i.e. ``dict(type='SpacyPOSTagger')``.
        piece_rule (str): ``'last'``, ``'first'`` or ``'all'``. Defaults to
            ``'last'``.
        keys (dict, optional): Renames of the result keys, e.g.
            ``dict(text='caption')``; keys not given keep the names above.
    """

    def __init__(self,
                 tokenizer=None,
                 pos_tagger='default',
                 piece_rule='last',
                 keys=None):
        if piece_rule not in _PIECE_RULES:
            raise ValueError(f'piece_rule must be one of {_PIECE_RULES}, '
                             f'got {piece_rule!r}')
        unknown = set(keys or {}) - set(_DEFAULT_KEYS)
        if unknown:
            raise KeyError(f'Unknown keys {sorted(unknown)}; valid: '
                           f'{sorted(_DEFAULT_KEYS)}')
        if tokenizer is None:
            tokenizer = dict(type='CLIPTokenizer', max_length=32)
        if pos_tagger == 'default':
            pos_tagger = dict(type='SpacyPOSTagger')
        self.tokenizer = _build(tokenizer)
        self.pos_tagger = _build(pos_tagger)
        self.piece_rule = piece_rule
        self.keys = {**_DEFAULT_KEYS, **(keys or {})}

    def encode(self, texts, tags=None):
        """Tokenize and tag n texts.

        Args:
            texts (list[str]): n texts.
            tags (list, optional): Precomputed ``[(start, end, tag)]`` word
                spans of each text (what the tagger returns); the tagger is
                then not run.

        Returns:
            dict[str, np.ndarray]: ``token_ids``, ``attention_mask``,
            ``noun_mask``, ``verb_mask``, each (n, L).
        """
        pieces = self.tokenizer.encode_pieces(texts)
        packed = self.tokenizer.pack(pieces)
        length = packed['input_ids'].shape[1]
        noun = np.zeros((len(texts), length), dtype=bool)
        verb = np.zeros((len(texts), length), dtype=bool)
        if tags is None and self.pos_tagger is not None:
            if len(texts) == 1:
                tags = [self.pos_tagger(texts[0])]
            else:
                tags = self.pos_tagger.tag_many(texts)
        if tags is not None:
            if len(tags) != len(texts):
                raise ValueError(f'{len(tags)} tag lists for {len(texts)} '
                                 'texts')
            for i, ((_, offs), spans) in enumerate(zip(pieces, tags)):
                nouns = [(s, e) for s, e, t in spans if t == 'NOUN']
                verbs = [(s, e) for s, e, t in spans if t == 'VERB']
                noun[i] = word_token_mask(nouns, offs, length,
                                          self.piece_rule)
                verb[i] = word_token_mask(verbs, offs, length,
                                          self.piece_rule)
        return dict(
            token_ids=packed['input_ids'],
            attention_mask=packed['attention_mask'],
            noun_mask=noun,
            verb_mask=verb)

    def transform(self, results):
        """Add token ids and masks.

        Args:
            results (dict): With ``text`` (str | list[str]).

        Returns:
            dict: ``results`` with the added keys.
        """
        text = results[self.keys['text']]
        single = isinstance(text, str)
        if not single and not (isinstance(text, (list, tuple))
                               and all(isinstance(t, str) for t in text)):
            raise TypeError(
                f'{self.keys["text"]!r} must be str or list[str], got '
                f'{type(text).__name__}: {text!r:.80}')
        tags = results.get('text_tags')
        if tags is not None and single:
            tags = [tags]
        out = self.encode([text] if single else list(text), tags)
        for name, value in out.items():
            results[self.keys[name]] = value[0] if single else value
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(tokenizer={self.tokenizer!r}, '
                f'pos_tagger={self.pos_tagger!r}, '
                f'piece_rule={self.piece_rule!r}, keys={self.keys!r})')


@TRANSFORMS.register_module()
class MatchObjectNouns(BaseTransform):
    """Find, for every trajectory, the caption token of its class noun.

    The ground truth of OTA: trajectory ``n`` (the clip's ``n``-th class by
    summed confidence, ``obj_classes[n]``) belongs to the first noun token
    whose BPE id is the last BPE piece of the class name (the piece that
    carries a noun's tag, see :class:`TokenizeText`). Used by the OTA
    assignment-accuracy metric and by region-word alignment; the model's
    objectives never see it. A multi-word class name ("traffic light")
    matches its last word; a class the caption does not name gets -1.

    Required Keys:

    - obj_classes (list[str]): from :class:`ProjectObjectBoxes`.
    - token_ids, noun_mask (np.ndarray): from :class:`TokenizeText`,
      (L,) or (n, L).

    Added Keys:

    - obj_noun_index (np.ndarray): int64, (N,) or (n, N): the token
      position of trajectory ``n``'s noun in each caption, -1 if none.

    Args:
        num_trajectories (int): N (the trajectory encoder's). Defaults
            to 20.
        tokenizer (dict | CLIPTokenizer, optional): The one the captions
            were tokenized with. None means ``dict(type='CLIPTokenizer')``.
    """

    def __init__(self, num_trajectories=20, tokenizer=None):
        self.num_trajectories = num_trajectories
        self.tokenizer = _build(tokenizer or dict(type='CLIPTokenizer'))
        self._class_ids = {}

    def class_token(self, name):
        """BPE id of the last piece of class ``name`` (-1 if empty)."""
        if name not in self._class_ids:
            ids, _ = self.tokenizer.encode_pieces([str(name).lower()])[0]
            self._class_ids[name] = int(ids[-1]) if len(ids) else -1
        return self._class_ids[name]

    def transform(self, results):
        token_ids = np.asarray(results['token_ids'])
        nouns = np.asarray(results['noun_mask'], bool)
        single = token_ids.ndim == 1
        token_ids, nouns = np.atleast_2d(token_ids), np.atleast_2d(nouns)
        out = np.full((len(token_ids), self.num_trajectories), -1, np.int64)
        classes = list(results.get('obj_classes', []))
        for n, name in enumerate(classes[:self.num_trajectories]):
            target = self.class_token(name)
            for i in range(len(token_ids)):
                hit = np.flatnonzero(nouns[i] & (token_ids[i] == target))
                if len(hit):
                    out[i, n] = hit[0]
        results['obj_noun_index'] = out[0] if single else out
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(num_trajectories='
                f'{self.num_trajectories})')
