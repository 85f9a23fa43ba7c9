"""Retrieval over a gallery: text -> videos, video -> texts.

Letters: Q queries, G gallery items, D joint width, k candidates.

Ranking is evaluation's (:func:`~stoavlp.evaluation.functional
.rank_direction` with the model's ``rerank_scores``): cosine similarity, the
top ``rerank_topk`` re-scored by ``softmax(scale * sim) * P_match(VTM)`` and
placed above the rest.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from stoavlp.evaluation.functional import rank_direction
from stoavlp.structures import RetrievalFeatures
from .base import BaseVideoInferencer, _name, list_videos
from .gallery import VideoFeatureCache, model_fingerprint


class _RetrievalInferencer(BaseVideoInferencer):

    def _check_model(self) -> None:
        if not hasattr(self.model, 'rerank_scores'):
            raise TypeError(f'{type(self.model).__name__} is not a retrieval '
                            'model (STOAVLPRetriever)')

    def tokenize(self, texts: Sequence[str]) -> RetrievalFeatures:
        """``text_features`` of texts, tokenised by the tokenizer of the
        pipeline's own ``TokenizeText`` (its noun/verb tags are not needed
        to rank, so spaCy is skipped: about 25 ms a query on a CPU)."""
        tokenize = next((t for t in self.pipeline.transforms
                         if type(t).__name__ == 'TokenizeText'), None)
        if tokenize is None:
            raise ValueError('the test pipeline has no TokenizeText')
        packed = tokenize.tokenizer.pack(
            tokenize.tokenizer.encode_pieces(list(texts)))
        device = next(self.model.parameters()).device
        ids = torch.as_tensor(packed['input_ids']).to(device)
        mask = torch.as_tensor(packed['attention_mask']).to(device)
        with torch.no_grad():
            feats = self.model.text_features(ids, mask)
        return feats.map(lambda t: t.cpu())

    @torch.no_grad()
    def encode_videos(self, videos: Sequence, batch_size: int = 8):
        """Yield ``(index, features)`` per usable video (its rows of
        ``video_features`` on the CPU), ``(None, shared)`` with what all
        videos share (``video_types``, ``cls_index``), and ``(index,
        error)`` strings for the unusable ones."""
        jobs = [(video, None) for video in videos]
        for indices, batch, errors in self.batches(jobs, batch_size):
            for i, err in errors.items():
                yield i, err
            if batch is None:
                continue
            data = self.model.data_preprocessor(batch, False)
            feats = self.model.video_features(data['inputs'],
                                              data['data_samples'])
            for row, i in enumerate(indices):
                yield i, {k: v[row].cpu()
                          for k, v in feats.video_rows().items()}
            if feats.video_types is not None:
                yield None, dict(video_types=feats.video_types.cpu(),
                                 cls_index=feats.cls_index)

    def rank(self, feats: RetrievalFeatures, videos_are_queries: bool,
             topk: int) -> Dict[str, torch.Tensor]:
        """Evaluation's ranking, ``topk`` best first; past the re-ranked
        candidates the order is by similarity, as in evaluation."""
        queries, gallery = (feats.num_videos, feats.num_texts) \
            if videos_are_queries else (feats.num_texts, feats.num_videos)
        topk = min(topk, gallery)
        with torch.no_grad():
            ranked = rank_direction(
                feats, videos_are_queries, [0] * queries,
                scorer=self.model.rerank_scores,
                rerank_topk=self.model.rerank_topk, topk=topk)
        index, scores = ranked['topk_indices'], ranked['topk_scores']
        if index.shape[1] >= topk:
            return dict(indices=index[:, :topk], scores=scores[:, :topk],
                        reranked=min(self.model.rerank_topk, topk))
        # more than rerank_topk asked for: the rest by similarity
        q, g = (feats.video_embed, feats.text_embed) if videos_are_queries \
            else (feats.text_embed, feats.video_embed)
        sims = q.float() @ g.float().T  # (Q, G)
        sims.scatter_(1, index, float('-inf'))
        rest = sims.topk(topk - index.shape[1], dim=1)
        return dict(indices=torch.cat([index, rest.indices], 1),
                    scores=torch.cat([scores, rest.values], 1),
                    reranked=index.shape[1])


class TextToVideoRetrievalInferencer(_RetrievalInferencer):
    """Search a gallery of videos with text queries.

    The gallery (a folder, a list of paths) is encoded once into a feature
    cache: on disk with ``cache=FILE``, keyed by path, size and mtime and
    valid for one fingerprint of the model weights, the pipeline and the
    objects source. Later calls encode only new or changed files and drop
    removed ones (:attr:`num_encoded` counts the videos encoded by the last
    :meth:`set_gallery`).

    Examples:
        >>> from stoavlp.apis import TextToVideoRetrievalInferencer
        >>> search = TextToVideoRetrievalInferencer(
        ...     CONFIG, CHECKPOINT, gallery='my_videos/',
        ...     cache='my_videos.feats.pt')
        >>> search('a red circle moving left', topk=5)['predictions'][0]
        {'query': ..., 'videos': [...], 'scores': [...], 'reranked': 5}

    Args:
        gallery (str | list, optional): Videos (see :func:`list_videos`).
        cache (str, optional): Feature cache file.
        batch_size (int): Videos per forward while encoding. Defaults to 8.
        **kwargs: See :class:`BaseVideoInferencer`.
    """

    def __init__(self, model, weights: Optional[str] = None,
                 gallery=None, cache: Optional[str] = None,
                 batch_size: int = 8, **kwargs) -> None:
        super().__init__(model, weights, **kwargs)
        self.cache_path, self.batch_size = cache, batch_size
        self.gallery: List[str] = []
        self.errors: Dict[str, str] = {}
        self.num_encoded = 0
        self._fingerprint = None
        if gallery is not None:
            self.set_gallery(gallery)

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            source = (f'detector={self.detector!r}' if self.detector else
                      f'objects_dir={self.objects_dir}, '
                      f'video_root={self.video_root}')
            self._fingerprint = model_fingerprint(
                self.model, repr(self.pipeline.transforms), source)
        return self._fingerprint

    def set_gallery(self, gallery) -> None:
        """Encode what the cache lacks of ``gallery`` and save the cache.
        Videos that cannot be used are left out (logged; :attr:`errors`)."""
        paths = [p for p in list_videos(gallery) if isinstance(p, str)]
        cache = VideoFeatureCache(self.cache_path, self.fingerprint())
        todo = cache.sync(paths)
        self.errors, self.num_encoded = {}, 0
        for i, result in self.encode_videos(todo, self.batch_size):
            if i is None:
                cache.shared.update(result)
            elif isinstance(result, str):
                self.errors[todo[i]] = result
            else:
                cache.put(todo[i], result)
                self.num_encoded += 1
        cache.save()
        self.gallery = [p for p in paths if osp.abspath(p) in cache.entries]
        if not self.gallery:
            raise ValueError('no usable video in the gallery')
        self.features = cache.stacked(self.gallery)

    def __call__(self, inputs, topk: int = 5, **kwargs) -> dict:
        """Rank the gallery for text queries (a str or a list).

        Returns:
            dict: ``predictions``: per query ``query``, ``videos`` (paths,
            best first), ``scores`` and ``reranked`` (how many leading
            results the VTM head re-scored).
        """
        if kwargs:
            raise TypeError(f'unexpected arguments {sorted(kwargs)}')
        if not self.gallery:
            raise ValueError('no gallery: call set_gallery(videos) first')
        queries = [inputs] if isinstance(inputs, str) else list(inputs)
        feats = RetrievalFeatures.from_dict(self.features).with_texts(
            self.tokenize(queries))
        ranked = self.rank(feats, False, topk)
        return dict(predictions=[
            dict(query=q, videos=[self.gallery[i] for i in index],
                 scores=scores, reranked=ranked['reranked'])
            for q, index, scores in zip(queries, ranked['indices'].tolist(),
                                        ranked['scores'].tolist())])

    def export(self, path: str) -> None:
        """Write the gallery's embeddings: ``npz`` with ``paths (G,)`` and
        ``video_embed (G, D)`` (normalised)."""
        np.savez(path, paths=np.array(self.gallery),
                 video_embed=self.features['video_embed'].float().numpy())


class VideoToTextRetrievalInferencer(_RetrievalInferencer):
    """Rank a gallery of texts for each input video.

    Args:
        texts (list[str]): The gallery, encoded once.
        **kwargs: See :class:`BaseVideoInferencer`.
    """

    def __init__(self, model, weights: Optional[str] = None,
                 texts: Sequence[str] = (), **kwargs) -> None:
        super().__init__(model, weights, **kwargs)
        if not texts:
            raise ValueError('no gallery texts')
        self.texts = list(texts)
        self.text_feats = self.tokenize(self.texts)

    def __call__(self, inputs, topk: int = 5, batch_size: int = 8) -> dict:
        videos = list_videos(inputs)
        preds: List[dict] = [None] * len(videos)
        rows, order = [], []
        shared = {}
        for i, result in self.encode_videos(videos, batch_size):
            if i is None:
                shared = result
            elif isinstance(result, str):
                preds[i] = dict(video=_name(videos[i], i), error=result)
            else:
                rows.append(result)
                order.append(i)
        if rows:
            feats = RetrievalFeatures.from_dict(dict(
                {k: torch.stack([r[k] for r in rows]) for k in rows[0]},
                **shared)).with_texts(self.text_feats)
            ranked = self.rank(feats, True, topk)
            for row, i in enumerate(order):
                index = ranked['indices'][row].tolist()
                preds[i] = dict(video=_name(videos[i], i),
                                texts=[self.texts[j] for j in index],
                                text_indices=index,
                                scores=ranked['scores'][row].tolist(),
                                reranked=ranked['reranked'])
        return dict(predictions=preds)


def encode_dataset(model: torch.nn.Module, dataset, batch_size: int = 8,
                   workers: int = 0,
                   show_progress: bool = True) -> RetrievalFeatures:
    """``RetrievalLoop``'s features of every video and text of a test-mode
    retrieval dataset, on the CPU."""
    from mmengine.dataset import pseudo_collate
    from torch.utils.data import DataLoader

    from stoavlp.engine.runner.retrieval_loop import batch_features
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=workers,
                        collate_fn=pseudo_collate)
    if show_progress:
        from tqdm import tqdm
        loader = tqdm(loader, desc='encoding videos', unit='batch')
    parts = [batch_features(model, batch) for batch in loader]
    return RetrievalFeatures.merge(parts, len(dataset))
