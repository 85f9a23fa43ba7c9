"""The CLIP BPE tokenizer, built offline, with character offsets.

The vocabulary is rebuilt from the merges file bundled in open-clip-torch
(``open_clip/bpe_simple_vocab_16e6.txt.gz``) exactly as open_clip's
``SimpleTokenizer`` builds it, written once as a HuggingFace tokenizer
directory (``vocab.json``, ``merges.txt``, ``tokenizer.json``) and loaded
with ``transformers.CLIPTokenizerFast``, whose Rust backend gives the
character offsets needed to align words (spaCy POS tags) to BPE pieces.

Token ids equal ``open_clip.tokenize(texts, context_length=max_length)``,
including open_clip's text cleaning (``ftfy``, double HTML unescape,
whitespace collapse, Python ``str.lower``), which the HF fast tokenizer does
not do by itself.
"""
import difflib
import gzip
import html
import importlib.util
import json
import os
import os.path as osp
import shutil
import tempfile

import numpy as np

from stoavlp.registry import TOKENIZERS

SOT_TOKEN = '<|startoftext|>'
EOT_TOKEN = '<|endoftext|>'
CLIP_VOCAB_SIZE = 49408
_CACHE_FILES = ('vocab.json', 'merges.txt', 'tokenizer.json')


def default_cache_dir():
    """Directory of the built tokenizer files.

    Returns:
        str: ``$STOAVLP_CACHE/clip_tokenizer`` if the environment variable is
        set, else ``~/.cache/stoavlp/clip_tokenizer``.
    """
    root = os.environ.get('STOAVLP_CACHE') or osp.join('~', '.cache',
                                                       'stoavlp')
    return osp.join(osp.expanduser(root), 'clip_tokenizer')


def open_clip_bpe_path():
    """Path of the BPE merges file shipped inside open-clip-torch.

    Found without importing ``open_clip`` (which imports its whole model zoo).
    """
    spec = importlib.util.find_spec('open_clip')
    if spec is None or not spec.submodule_search_locations:
        raise ImportError('open-clip-torch is required to build the CLIP '
                          'tokenizer offline (pip install open-clip-torch), '
                          'or pass pretrained=<HF CLIP directory>.')
    path = osp.join(list(spec.submodule_search_locations)[0],
                    'bpe_simple_vocab_16e6.txt.gz')
    if not osp.isfile(path):
        raise FileNotFoundError(f'CLIP BPE merges file not found: {path}')
    return path


def bytes_to_unicode():
    """The byte -> printable unicode table of GPT-2/CLIP byte-level BPE.

    Returns:
        dict[int, str]: 256 entries, in the order that defines vocab ids.
    """
    bs = [*range(ord('!'), ord('~') + 1), *range(ord('¡'), ord('¬') + 1),
          *range(ord('®'), ord('ÿ') + 1)]
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def _write_atomic(path, text):
    """Write via temp file + rename so racing workers never see a torn file."""
    fd, tmp = tempfile.mkstemp(prefix='.tmp-', dir=osp.dirname(path))
    with os.fdopen(fd, 'w', encoding='utf-8') as f:
        f.write(text)
    os.replace(tmp, path)


def build_clip_tokenizer_files(cache_dir=None, bpe_path=None):
    """Write the CLIP tokenizer as a HF directory, once.

    Safe with several processes racing: everything is built in a private
    temp dir, then moved in file by file with atomic renames,
    ``tokenizer.json`` last, whose presence marks a complete directory.

    Args:
        cache_dir (str, optional): Target directory. Defaults to
            :func:`default_cache_dir`.
        bpe_path (str, optional): BPE merges file (``.txt.gz``). Defaults to
            the one bundled in open-clip-torch.

    Returns:
        str: The directory, loadable by ``CLIPTokenizerFast.from_pretrained``.
    """
    cache_dir = osp.expanduser(cache_dir or default_cache_dir())
    if all(osp.isfile(osp.join(cache_dir, f)) for f in _CACHE_FILES):
        return cache_dir
    from transformers import CLIPTokenizerFast

    with gzip.open(bpe_path or open_clip_bpe_path()) as f:
        lines = f.read().decode('utf-8').split('\n')
    # Same slice and vocab order as open_clip's SimpleTokenizer.
    merges = lines[1:49152 - 256 - 2 + 1]
    byte_chars = list(bytes_to_unicode().values())
    vocab = byte_chars + [c + '</w>' for c in byte_chars]
    vocab += [''.join(m.split()) for m in merges]
    vocab += [SOT_TOKEN, EOT_TOKEN]

    os.makedirs(cache_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix='.build-', dir=cache_dir)
    try:
        with open(osp.join(tmp, 'vocab.json'), 'w', encoding='utf-8') as f:
            json.dump({t: i
                       for i, t in enumerate(vocab)},
                      f,
                      ensure_ascii=False)
        with open(osp.join(tmp, 'merges.txt'), 'w', encoding='utf-8') as f:
            f.write('#version: 0.2\n' + '\n'.join(merges) + '\n')
        # Converts slow -> fast (about 0.1 s); ``from_pretrained`` rather than
        # ``CLIPTokenizer(vocab_file=...)``, which on transformers 5.x
        # silently yields a 2-token vocab.
        tok = CLIPTokenizerFast.from_pretrained(tmp, local_files_only=True)
        _check_vocab(tok, tmp)
        tok.save_pretrained(tmp)
        names = [n for n in os.listdir(tmp) if n != 'tokenizer.json']
        for name in names + ['tokenizer.json']:
            os.replace(osp.join(tmp, name), osp.join(cache_dir, name))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return cache_dir


def _check_vocab(tok, where):
    ids = tok.convert_tokens_to_ids([SOT_TOKEN, EOT_TOKEN])
    if len(tok) != CLIP_VOCAB_SIZE or ids != [49406, 49407]:
        raise RuntimeError(
            f'CLIP tokenizer loaded from {where} has {len(tok)} tokens and '
            f'special ids {ids}; expected {CLIP_VOCAB_SIZE} and '
            f'[49406, 49407]. The directory is not a CLIP tokenizer or is '
            'corrupt (delete it to rebuild a cache dir).')


def _basic_clean(text):
    """open_clip's ``basic_clean`` (ftfy + double HTML unescape + strip)."""
    import ftfy
    return html.unescape(html.unescape(ftfy.fix_text(text))).strip()


def _align(orig, cleaned):
    """Map each character of ``cleaned`` to a span of ``orig``.

    Used only when open_clip's cleaning changed more than case and
    whitespace (ftfy fixes, HTML entities, non-ASCII lowercasing).

    Returns:
        tuple[list[int], list[int]]: ``start[j]``, ``end[j]`` for every
        character ``j`` of ``cleaned``.
    """
    start = [0] * len(cleaned)
    end = [0] * len(cleaned)
    # Compare against lowered characters so case changes stay 1:1 matches.
    matcher = difflib.SequenceMatcher(
        None, [c.lower() for c in orig], list(cleaned), autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == 'equal' or (op == 'replace' and i2 - i1 == j2 - j1):
            for k in range(j2 - j1):
                start[j1 + k], end[j1 + k] = i1 + k, i1 + k + 1
        elif op in ('replace', 'insert'):
            # e.g. '&amp;' -> '&': the cleaned chars cover the whole block.
            for j in range(j1, j2):
                start[j], end[j] = i1, i2
    return start, end


@TOKENIZERS.register_module()
class CLIPTokenizer:
    """CLIP BPE tokenizer returning ids, masks and character offsets.

    Truncation equals open_clip's: ``<|startoftext|>`` + the first
    ``max_length - 2`` BPE tokens + ``<|endoftext|>``; padding uses id 0
    (open_clip's pad, so ``argmax(ids)`` finds EOT as in CLIP's text tower).

    There is no ``[MASK]`` token in CLIP's vocabulary. For masked language
    modelling, STOA-VLP replaces the *embedding* of a masked token (the
    official code zeroes it) instead of substituting a token id, so
    :attr:`mask_token_id` is ``None``.

    The HF tokenizer is loaded lazily and dropped when pickled, so the object
    is cheap to send to dataloader workers (each reloads it in about 0.1 s).

    Args:
        pretrained (str, optional): A local HF CLIP tokenizer directory
            (``vocab.json``/``merges.txt``/``tokenizer.json``). Defaults to
            building one from open-clip-torch's BPE file in ``cache_dir``.
        max_length (int): Context length L, special tokens included.
            Defaults to 32.
        cache_dir (str, optional): Where the built files live. Defaults to
            ``$STOAVLP_CACHE/clip_tokenizer`` or
            ``~/.cache/stoavlp/clip_tokenizer``.
    """

    def __init__(self, pretrained=None, max_length=32, cache_dir=None):
        if max_length < 2:
            raise ValueError(f'max_length must be >= 2, got {max_length}')
        self.pretrained = pretrained
        self.max_length = int(max_length)
        self.cache_dir = cache_dir
        self._hf = None

    # -- loading / pickling -------------------------------------------------
    @property
    def hf_tokenizer(self):
        """transformers.CLIPTokenizerFast: the underlying tokenizer."""
        if self._hf is None:
            self._hf = self._load()
        return self._hf

    def _load(self):
        from transformers import CLIPTokenizerFast
        if self.pretrained is not None:
            path = osp.expanduser(self.pretrained)
            if not osp.isdir(path):
                raise FileNotFoundError(
                    f'pretrained={self.pretrained!r} is not a local '
                    'directory; hub names cannot be downloaded here. Give a '
                    'directory with vocab.json/merges.txt/tokenizer.json.')
        else:
            path = build_clip_tokenizer_files(self.cache_dir)
        tok = CLIPTokenizerFast.from_pretrained(path, local_files_only=True)
        _check_vocab(tok, path)
        backend = tok.backend_tokenizer
        # We truncate/pad ourselves (open_clip semantics, pad id 0).
        backend.no_truncation()
        backend.no_padding()
        # Treat literal '<|endoftext|>' in a caption as text, like open_clip.
        backend.encode_special_tokens = True
        return tok

    def __getstate__(self):
        state = self.__dict__.copy()
        state['_hf'] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)

    # -- ids ----------------------------------------------------------------
    @property
    def vocab_size(self):
        """int: 49408."""
        return CLIP_VOCAB_SIZE

    @property
    def sot_token_id(self):
        """int: Id of ``<|startoftext|>`` (49406)."""
        return 49406

    @property
    def eot_token_id(self):
        """int: Id of ``<|endoftext|>`` (49407)."""
        return 49407

    @property
    def pad_token_id(self):
        """int: 0, as open_clip (use ``attention_mask`` to tell pads)."""
        return 0

    @property
    def mask_token_id(self):
        """None: CLIP has no [MASK]; MLM masks embeddings, not ids."""
        return None

    # -- encoding -----------------------------------------------------------
    def encode_pieces(self, texts):
        """BPE tokens of each text, without special tokens or truncation.

        Args:
            texts (list[str]): Texts.

        Returns:
            list[tuple[np.ndarray, np.ndarray]]: Per text, ``ids`` (m,) int64
            and ``offsets`` (m, 2) int64 character spans into the original
            text (a piece of a multi-byte character spans that character;
            where cleaning rewrote the text, spans are aligned back, e.g.
            the '&' of '&amp;' maps to the '&' only).
        """
        feed, maps = [], []
        for text in texts:
            if not isinstance(text, str):
                raise TypeError(f'Expected str, got {type(text)}: {text!r}')
            if text.isascii() and _basic_clean(text) == text.strip():
                # HF's normalizer (whitespace, lowercase) then equals
                # open_clip's cleaning, and offsets are exact.
                feed.append(text)
                maps.append(None)
            else:
                cleaned = ' '.join(_basic_clean(text).split()).lower()
                feed.append(cleaned)
                maps.append(_align(text, cleaned))
        encs = self.hf_tokenizer.backend_tokenizer.encode_batch(
            feed, add_special_tokens=False)
        out = []
        for text, enc, cmap in zip(texts, encs, maps):
            ids = np.asarray(enc.ids, dtype=np.int64)
            offs = np.asarray(enc.offsets, dtype=np.int64).reshape(-1, 2)
            if cmap is not None and len(offs):
                start, end = cmap
                s = np.asarray([start[a] for a in offs[:, 0]], np.int64)
                e = np.asarray([end[max(b - 1, 0)] for b in offs[:, 1]],
                               np.int64)
                offs = np.stack([s, np.maximum(e, s)], axis=1)
            out.append((ids, offs))
        return out

    def pack(self, pieces):
        """Add special tokens, truncate and pad to ``max_length``.

        Args:
            pieces (list[tuple[np.ndarray, np.ndarray]]): From
                :meth:`encode_pieces`.

        Returns:
            dict[str, np.ndarray]: See :meth:`__call__`.
        """
        n, length = len(pieces), self.max_length
        ids = np.zeros((n, length), dtype=np.int64)
        mask = np.zeros((n, length), dtype=np.int64)
        offsets = np.zeros((n, length, 2), dtype=np.int64)
        eot_index = np.zeros((n, ), dtype=np.int64)
        for i, (pid, poff) in enumerate(pieces):
            k = min(len(pid), length - 2)
            ids[i, 0] = self.sot_token_id
            ids[i, 1:k + 1] = pid[:k]
            ids[i, k + 1] = self.eot_token_id
            mask[i, :k + 2] = 1
            offsets[i, 1:k + 1] = poff[:k]
            eot_index[i] = k + 1
        return dict(
            input_ids=ids,
            attention_mask=mask,
            offsets=offsets,
            eot_index=eot_index)

    def __call__(self, texts):
        """Tokenize.

        Args:
            texts (str | list[str]): n texts (a str counts as n = 1).

        Returns:
            dict[str, np.ndarray]:
            - ``input_ids`` (n, L) int64, padded with 0.
            - ``attention_mask`` (n, L) int64, 1 on SOT..EOT.
            - ``offsets`` (n, L, 2) int64 character spans into the original
              text; (0, 0) for special tokens and padding.
            - ``eot_index`` (n,) int64, position of ``<|endoftext|>``.
        """
        if isinstance(texts, str):
            texts = [texts]
        return self.pack(self.encode_pieces(list(texts)))

    def decode(self, ids):
        """Ids back to text, without special tokens and padding.

        Args:
            ids (Sequence[int] | np.ndarray | torch.Tensor): (L,) or (n, L).
                Everything after the first EOT is taken as padding.

        Returns:
            str | list[str]: A str for (L,), a list for (n, L).
        """
        arr = np.asarray(
            ids.detach().cpu() if hasattr(ids, 'detach') else ids,
            dtype=np.int64)
        if arr.ndim == 2:
            return [self.decode(row) for row in arr]
        keep = []
        for i in arr.tolist():
            if i == self.eot_token_id:
                break
            if i != self.sot_token_id:
                keep.append(i)
        return self.hf_tokenizer.decode(
            keep, skip_special_tokens=True,
            clean_up_tokenization_spaces=False).strip()

    def __repr__(self):
        return (f'{self.__class__.__name__}(pretrained={self.pretrained!r}, '
                f'max_length={self.max_length}, '
                f'cache_dir={self.cache_dir!r})')
