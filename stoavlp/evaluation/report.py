"""Results tables in the layout of the paper's Tables 1-3."""
from typing import Dict, List, Optional, Tuple

# (metric key suffix, column name) in the paper's order.
_COLUMNS: List[Tuple[str, str]] = [
    ('CIDEr', 'C'), ('METEOR', 'M'), ('ROUGE-L', 'R'), ('BLEU-4', 'B-4'),
    ('BLEU-1', 'B-1'), ('BLEU-2', 'B-2'), ('BLEU-3', 'B-3'),
    ('t2v/R1', 'R@1'), ('t2v/R5', 'R@5'), ('t2v/R10', 'R@10'),
    ('t2v/MdR', 'MdR'), ('t2v/MnR', 'MnR'), ('v2t/R1', 'v2t R@1'),
    ('v2t/R5', 'v2t R@5'), ('v2t/R10', 'v2t R@10'), ('v2t/MdR', 'v2t MdR'),
    ('v2t/MnR', 'v2t MnR'), ('acc', 'Acc')
]


def ordered_columns(metrics: Dict[str, float]) -> List[Tuple[str, str]]:
    """``(key, column)`` pairs of ``metrics`` in the paper's order, then
    any other numeric keys."""
    found, used = [], set()
    for suffix, column in _COLUMNS:
        for key in metrics:
            if key not in used and (key == suffix or key.endswith(
                    '/' + suffix)):
                found.append((key, column))
                used.add(key)
    found += [(k, k) for k in metrics
              if k not in used and isinstance(metrics[k], (int, float))]
    return found


def format_results(metrics: Dict[str, float], name: str,
                   reference: Optional[Dict[str, float]] = None,
                   reference_name: str = 'paper') -> str:
    """A markdown table of one evaluation, optionally with a second row
    (e.g. the paper's numbers or chance level) under the same columns."""
    columns = ordered_columns(metrics)
    head = '| | ' + ' | '.join(c for _, c in columns) + ' |'
    rule = '|---|' + '---|' * len(columns)
    row = f'| {name} | ' + ' | '.join(f'{metrics[k]:.1f}'
                                      for k, _ in columns) + ' |'
    lines = [head, rule, row]
    if reference:
        lines.append(f'| {reference_name} | ' + ' | '.join(
            f'{reference[k]:.1f}' if k in reference else '-'
            for k, _ in columns) + ' |')
    return '\n'.join(lines)
