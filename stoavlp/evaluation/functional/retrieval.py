"""Memory-bounded retrieval ranking with pessimistic ties.

Letters: Q queries, G gallery items, D feature channels, c queries in one
chunk, k re-ranked candidates per query.

One function serves both directions: text-to-video passes text features as
``query`` and video features as ``gallery``; video-to-text swaps them and
gives each video the set of its caption indices as ground truth.

Ties:
    The rank of a query is ``1 + #(non-ground-truth items scoring >= the
    best ground-truth item)``, so an item that ties with the ground truth is
    counted as ranked above it. The sort-and-compare trick of CLIP4Clip
    (issue #80) and mmaction2 ``RetrievalMetric``,
    ``ind = np.where(np.sort(-sim) - np.diag(-sim)[:, None] == 0)[1]``,
    returns one entry per sorted position equal to the ground-truth score:
    a tied query gets its best tied position (a hit) plus extra entries that
    also enlarge the denominator of R@K, so ties inflate recall and the
    number of "queries" no longer matches Q.

Several ground-truth items (a video with 20 captions, video-to-text):
    The best-ranked ground truth counts, and the other ground-truth items are
    left out of the count, so they never push it down. Equivalently: the rank
    is ``1 + #(non-ground-truth items scoring >= max(ground-truth scores))``.
"""
from typing import Callable, Dict, Iterable, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

GroundTruth = Union[Tensor, Sequence[Union[int, Iterable[int]]]]
RerankFn = Callable[[Tensor, Tensor, Tensor], Tensor]
ScoreFn = Callable[[Tensor, Tensor], Tensor]


def _flatten_gt(gt: GroundTruth, num_queries: int,
                num_gallery: int) -> Tuple[Tensor, Tensor]:
    """Turn ground truth into CSR form: per-query offsets and gallery ids.

    Args:
        gt (Tensor | Sequence): ``(Q,)`` integer tensor (one item per query)
            or a sequence of ints / iterables of ints (a set per query).
        num_queries (int): Q.
        num_gallery (int): G, for the range check.

    Returns:
        tuple[Tensor, Tensor]: ``offsets`` ``(Q + 1,)`` int64 and ``cols``
        ``(sum of set sizes,)`` int64; query ``i`` owns
        ``cols[offsets[i]:offsets[i + 1]]`` (duplicates removed, since a
        duplicate would be subtracted twice from the tie count).
    """
    if isinstance(gt, Tensor):
        if gt.dim() != 1 or gt.dtype.is_floating_point:
            raise ValueError('a ground-truth tensor must be (Q,) integers, '
                             f'got shape {tuple(gt.shape)} {gt.dtype}')
        cols = gt.detach().to('cpu', torch.int64)
        counts = torch.ones(len(cols), dtype=torch.int64)
    else:
        sets = []
        for item in gt:
            if isinstance(item, Tensor):
                item = item.tolist()
            item = [item] if isinstance(item, (int, np.integer)) else item
            sets.append(sorted({int(j) for j in item}))
        counts = torch.tensor([len(s) for s in sets], dtype=torch.int64)
        cols = torch.tensor([j for s in sets for j in s], dtype=torch.int64)
    if len(counts) != num_queries:
        raise ValueError(f'got ground truth for {len(counts)} queries, '
                         f'but {num_queries} queries')
    if num_queries and counts.min() < 1:
        empty = int((counts < 1).nonzero()[0])
        raise ValueError(f'query {empty} has no ground-truth item')
    if len(cols) and (cols.min() < 0 or cols.max() >= num_gallery):
        raise ValueError('ground-truth indices must lie in '
                         f'[0, {num_gallery}), got {cols.min()}..{cols.max()}')
    offsets = torch.zeros(num_queries + 1, dtype=torch.int64)
    offsets[1:] = counts.cumsum(0)
    return offsets, cols


def _chunk_gt(offsets: Tensor, cols: Tensor, start: int, end: int,
              device: torch.device) -> Tuple[Tensor, Tensor]:
    """Ground-truth (row, col) pairs of queries ``start:end``, rows local."""
    counts = offsets[start + 1:end + 1] - offsets[start:end]
    rows = torch.repeat_interleave(torch.arange(end - start), counts)
    chunk_cols = cols[offsets[start]:offsets[end]]
    return rows.to(device), chunk_cols.to(device)


def _check_no_nan(scores: Tensor, what: str) -> None:
    """Raise if ``scores`` hold NaN, which compares False with everything
    and would silently count as a hit for the ground truth."""
    # A finite sum (one cheap reduction) already rules NaN out.
    if not torch.isfinite(scores.sum()) and torch.isnan(scores).any():
        raise ValueError(f'{what} contain NaN')


def _count_at_least(scores: Tensor, thresholds: Tensor) -> Tensor:
    """``(scores >= thresholds[:, None]).sum(1)`` in blocks of rows.

    Summing a ``(c, G)`` bool tensor materialises an integer copy of it
    (4-8x its size), so the count runs on blocks of about 4M elements
    (about 20 MB of temporaries whatever G is).

    Args:
        scores (Tensor): ``(c, G)`` similarities.
        thresholds (Tensor): ``(c,)`` per-row threshold.

    Returns:
        Tensor: ``(c,)`` int64 counts.
    """
    rows_per_block = max(1, (1 << 22) // max(scores.size(1), 1))
    counts = torch.empty(len(scores), dtype=torch.int64, device=scores.device)
    for start in range(0, len(scores), rows_per_block):
        block = slice(start, start + rows_per_block)
        at_least = scores[block] >= thresholds[block, None]  # (b, G) bool
        counts[block] = at_least.sum(1, dtype=torch.int32)  # (b,)
    return counts


def _pessimistic_ranks(scores: Tensor, rows: Tensor, cols: Tensor) -> Tensor:
    """Ranks of the best ground truth of each row, ties counted against it.

    Never allocates a copy of ``scores`` or a ``(c, G)`` mask: the
    temporaries are comparisons of a few rows at a time.

    Args:
        scores (Tensor): ``(c, G)`` similarities.
        rows (Tensor): ``(n,)`` row of each ground-truth pair.
        cols (Tensor): ``(n,)`` gallery index of each ground-truth pair.

    Returns:
        Tensor: ``(c,)`` int64 1-based ranks.
    """
    num_rows = scores.size(0)
    gt_scores = scores[rows, cols]  # (n,)
    best = torch.full((num_rows, ),
                      float('-inf'),
                      dtype=scores.dtype,
                      device=scores.device)
    best = best.scatter_reduce(0, rows, gt_scores, reduce='amax')  # (c,)
    num_ge = _count_at_least(scores, best)  # (c,), includes tied GTs
    # Ground-truth items at the best score are in num_ge but must not push
    # the best one down (they are all "the" hit).
    gt_ge = torch.zeros(num_rows, dtype=torch.int64, device=scores.device)
    gt_ge = gt_ge.index_add(0, rows, (gt_scores >= best[rows]).long())
    return num_ge - gt_ge + 1


def gt_ranks(scores: Tensor, gt: GroundTruth) -> Tensor:
    """1-based rank of the best ground-truth gallery item of each query.

    ``rank = 1 + #(non-ground-truth items j with scores[q, j] >= best)``
    where ``best`` is the highest ground-truth score of query ``q``: ties are
    not hits (see the module docstring for what the usual sort-and-compare
    trick does instead), and other ground-truth items never count.

    Args:
        scores (Tensor): ``(Q, G)`` similarities, higher is better.
        gt (Tensor | Sequence): ``(Q,)`` integer tensor with one gallery
            index per query, or a sequence (length Q) of ints or sets of
            gallery indices.

    Returns:
        Tensor: ``(Q,)`` int64 ranks on the device of ``scores``.

    Examples:
        >>> import torch
        >>> scores = torch.tensor([[0.9, 0.9, 0.1],
        ...                        [0.2, 0.5, 0.4]])
        >>> gt_ranks(scores, torch.tensor([0, 1]))  # query 0 ties with 1
        tensor([2, 1])
        >>> gt_ranks(scores, [{0, 1}, {2}])  # several ground-truth items
        tensor([1, 2])
    """
    if scores.dim() != 2:
        raise ValueError(f'scores must be (Q, G), got {tuple(scores.shape)}')
    _check_no_nan(scores, 'scores')
    offsets, cols = _flatten_gt(gt, scores.size(0), scores.size(1))
    rows, cols = _chunk_gt(offsets, cols, 0, scores.size(0), scores.device)
    return _pessimistic_ranks(scores, rows, cols)


def _rerank_chunk(ranks: Tensor, top_idx: Tensor, new_scores: Tensor,
                  rows: Tensor, cols: Tensor,
                  num_gallery: int) -> Tuple[Tensor, Tensor, Tensor]:
    """Sort the top-k by re-ranked scores and recompute ground-truth ranks.

    Re-ranked candidates sit above every item outside the top-k. A query
    whose best ground truth is among them gets its (pessimistic) position by
    the new scores; the others keep their first-stage rank, which is always
    > k because k non-ground-truth items score at least as high.

    Args:
        ranks (Tensor): ``(c,)`` first-stage ranks.
        top_idx (Tensor): ``(c, k)`` gallery indices of the top-k.
        new_scores (Tensor): ``(c, k)`` re-ranked scores, same order.
        rows (Tensor): ``(n,)`` local row of each ground-truth pair.
        cols (Tensor): ``(n,)`` gallery index of each ground-truth pair.
        num_gallery (int): G, to build unique (row, col) keys.

    Returns:
        tuple[Tensor, Tensor, Tensor]: ranks ``(c,)``, indices ``(c, k)``
        and scores ``(c, k)`` sorted by descending new score.
    """
    order = new_scores.argsort(dim=1, descending=True, stable=True)
    top_idx = top_idx.gather(1, order)  # (c, k)
    new_scores = new_scores.gather(1, order)  # (c, k)
    # Membership of (row, gallery) pairs via sorted int64 keys and a binary
    # search: no (c, G) mask (torch.isin is ~25x slower at these sizes).
    row_ids = torch.arange(len(top_idx), device=top_idx.device)[:, None]
    top_keys = row_ids * num_gallery + top_idx  # (c, k)
    gt_keys = (rows * num_gallery + cols).sort().values  # (n,)
    pos = torch.searchsorted(gt_keys, top_keys).clamp_(max=len(gt_keys) - 1)
    is_gt = gt_keys[pos] == top_keys  # (c, k)
    best = new_scores.masked_fill(~is_gt, float('-inf')).amax(1)  # (c,)
    top_ranks = ((new_scores >= best[:, None]) & ~is_gt).sum(1) + 1
    ranks = torch.where(is_gt.any(1), top_ranks, ranks)
    return ranks, top_idx, new_scores


@torch.no_grad()
def chunked_retrieval(query: Tensor,
                      gallery: Tensor,
                      gt: GroundTruth,
                      chunk_size: int = 1024,
                      topk: int = 0,
                      rerank: Optional[RerankFn] = None,
                      score_fn: Optional[ScoreFn] = None) -> Dict[str, Tensor]:
    """Rank a gallery for every query without the full score matrix.

    Similarities are computed ``chunk_size`` queries at a time, so memory is
    O(chunk_size * G) instead of O(Q * G) (10k x 10k float32 = 400 MB).
    Half-precision inputs are scored in float32, because fp16 scores tie far
    more often and ties are counted against the ground truth.

    Args:
        query (Tensor): ``(Q, D)`` query features (e.g. normalised text
            features for text-to-video).
        gallery (Tensor): ``(G, D)`` gallery features, same device.
        gt (Tensor | Sequence): ``(Q,)`` integer tensor, or a sequence of
            ints / sets of gallery indices (several captions per video in
            video-to-text). See :func:`gt_ranks`.
        chunk_size (int): Queries scored at once. Defaults to 1024.
        topk (int): Candidates kept per query (and re-ranked when
            ``rerank`` is given); 0 keeps none. Clipped to G.
            Defaults to 0.
        rerank (Callable, optional): ``rerank(query_idx (c,), gallery_idx
            (c, k), scores (c, k)) -> new scores (c, k)``; indices are
            global. The re-ranked candidates move above every other item and
            the ground-truth rank is recomputed (ties pessimistic) when the
            ground truth is among them; otherwise it keeps its rank (> k).
            Requires ``topk > 0``. Defaults to None.
        score_fn (Callable, optional): ``score_fn(query (c, D), gallery
            (G, D)) -> (c, G)`` similarity; None means
            ``query @ gallery.T``. Defaults to None.

    Returns:
        dict[str, Tensor]: on the CPU,

        - ranks: ``(Q,)`` int64 1-based rank of the best ground truth.
        - topk_indices: ``(Q, k)`` int64 gallery indices, best first (by the
          re-ranked score when ``rerank`` is given).
        - topk_scores: ``(Q, k)`` float32 scores of ``topk_indices``.

    Examples:
        >>> import torch
        >>> feats = torch.tensor([[1., 0.], [0., 1.], [1., 1.]])
        >>> # scores: [[1, 0, 1], [0, 1, 1], [1, 1, 2]]
        >>> out = chunked_retrieval(feats, feats, torch.tensor([0, 1, 2]),
        ...                         chunk_size=2, topk=1)
        >>> out['ranks']  # queries 0 and 1 tie with item 2
        tensor([2, 2, 1])
        >>> out['topk_indices'][2], out['topk_scores'][2]
        (tensor([2]), tensor([2.]))
    """
    if query.dim() != 2 or gallery.dim() != 2:
        raise ValueError('query and gallery must be (Q, D) and (G, D), got '
                         f'{tuple(query.shape)} and {tuple(gallery.shape)}')
    if score_fn is None and query.size(1) != gallery.size(1):
        raise ValueError(f'feature sizes differ: query D={query.size(1)}, '
                         f'gallery D={gallery.size(1)}')
    if chunk_size < 1:
        raise ValueError(f'chunk_size must be >= 1, got {chunk_size}')
    if topk < 0:
        raise ValueError(f'topk must be >= 0, got {topk}')
    if rerank is not None and topk == 0:
        raise ValueError('rerank needs topk > 0 candidates to re-rank')
    if query.dtype in (torch.float16, torch.bfloat16):
        query = query.float()
    if gallery.dtype in (torch.float16, torch.bfloat16):
        gallery = gallery.float()
    num_queries, num_gallery = query.size(0), gallery.size(0)
    offsets, cols = _flatten_gt(gt, num_queries, num_gallery)
    k = min(topk, num_gallery)

    all_ranks, all_idx, all_scores = [], [], []
    for start in range(0, num_queries, chunk_size):
        end = min(start + chunk_size, num_queries)
        if score_fn is None:
            scores = query[start:end] @ gallery.T  # (c, G)
        else:
            scores = score_fn(query[start:end], gallery)  # (c, G)
        if scores.shape != (end - start, num_gallery):
            raise ValueError(f'score_fn returned {tuple(scores.shape)}, '
                             f'expected {(end - start, num_gallery)}')
        scores = scores.float()
        _check_no_nan(scores, 'similarity scores')
        rows, chunk_cols = _chunk_gt(offsets, cols, start, end, scores.device)
        ranks = _pessimistic_ranks(scores, rows, chunk_cols)  # (c,)
        top_scores, top_idx = scores.topk(k, dim=1)  # (c, k), best first
        del scores  # free the (c, G) block before the re-ranker runs
        if rerank is not None:
            query_idx = torch.arange(start, end, device=top_idx.device)
            new_scores = rerank(query_idx, top_idx, top_scores)
            if new_scores.shape != top_scores.shape:
                raise ValueError(
                    f'rerank returned {tuple(new_scores.shape)}, expected '
                    f'{tuple(top_scores.shape)}')
            new_scores = new_scores.to(top_scores)
            _check_no_nan(new_scores, 're-ranked scores')
            ranks, top_idx, top_scores = _rerank_chunk(ranks, top_idx,
                                                       new_scores, rows,
                                                       chunk_cols, num_gallery)
        all_ranks.append(ranks.cpu())
        all_idx.append(top_idx.cpu())
        all_scores.append(top_scores.cpu())

    if num_queries == 0:
        return dict(ranks=torch.zeros(0, dtype=torch.int64),
                    topk_indices=torch.zeros(0, k, dtype=torch.int64),
                    topk_scores=torch.zeros(0, k))
    return dict(ranks=torch.cat(all_ranks),
                topk_indices=torch.cat(all_idx),
                topk_scores=torch.cat(all_scores))


def retrieval_metrics(
    ranks: Union[Tensor, Sequence[int]], topk: Sequence[int] = (1, 5, 10)
) -> Dict[str, float]:
    """Recall at K (percent), median and mean rank.

    Args:
        ranks (Tensor | Sequence[int]): ``(Q,)`` 1-based ranks.
        topk (Sequence[int]): The K of each ``R{K}``. Defaults to
            ``(1, 5, 10)``.

    Returns:
        dict[str, float]: ``R{K}`` for each K, ``MdR`` (median; the mean of
        the two middle ranks for even Q, as ``np.median``) and ``MnR``.

    Examples:
        >>> metrics = retrieval_metrics([1, 2, 3, 6, 11, 1])
        >>> {name: round(value, 2) for name, value in metrics.items()}
        {'R1': 33.33, 'R5': 66.67, 'R10': 83.33, 'MdR': 2.5, 'MnR': 4.0}
    """
    ranks = np.asarray(torch.as_tensor(ranks).cpu(), dtype=np.int64)
    if ranks.ndim != 1 or ranks.size == 0:
        raise ValueError('ranks must be a non-empty 1-D sequence')
    if ranks.min() < 1:
        raise ValueError(f'ranks are 1-based, got {ranks.min()}')
    metrics = {f'R{k}': float((ranks <= k).mean() * 100) for k in topk}
    metrics['MdR'] = float(np.median(ranks))
    metrics['MnR'] = float(ranks.mean())
    return metrics
