"""Retrieval evaluation: cache features of the whole test set, then rank.

model (``mode='tensor'``: :class:`RetrievalFeatures` per batch) -> this loop
(gathers, merges) -> :func:`~stoavlp.evaluation.functional.retrieval_ranks`
(with the model's ``rerank_scores`` as the scorer) -> the metric.
"""
import contextlib
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.evaluator import Evaluator
from mmengine.runner.loops import BaseLoop
from torch.utils.data import DataLoader

from stoavlp.evaluation.functional import retrieval_ranks
from stoavlp.registry import LOOPS
from stoavlp.structures import RetrievalFeatures

AMP_DTYPES = {None: None, 'bf16': torch.bfloat16, 'fp16': torch.float16}


@LOOPS.register_module()
class RetrievalLoop(BaseLoop):
    """Validation or test loop for text-video retrieval.

    1. Every rank runs ``mode='tensor'`` on its share of the test videos
       (each item: a video and all its texts) and keeps the
       :class:`RetrievalFeatures`.
    2. Features are gathered from all ranks, ordered by sample index, and
       the distributed sampler's padding (repeated samples) is dropped
       (``RetrievalFeatures.merge``).
    3. :func:`retrieval_ranks` ranks texts->videos and videos->texts (memory
       bounded; the model's top ``rerank_topk`` candidates re-scored by its
       ``rerank_scores``); each rank reports its share of the
       queries to the evaluator (e.g. ``RetrievalRecall``): the ground-truth
       rank and, for ``DumpResults`` (``tools/test.py --dump``), the query
       (text and id, or video id), its ground-truth ids and the top
       ``dump_topk`` ids with their scores.

    One class serves both stages (``stage='val'`` or ``'test'``, for the
    hook names), instead of twin Val/Test loops.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): Test-mode retrieval dataset.
        evaluator (Evaluator | dict | list): Metrics.
        stage (str): ``'val'`` or ``'test'``. Defaults to ``'test'``.
        dump_topk (int): Candidates per query in the results. Defaults to
            10.
        amp (str, optional): ``'bf16'`` or ``'fp16'``: features and VTM
            re-ranking under ``torch.autocast`` in that dtype (about half
            the memory and time on GPUs; scores are ranked in float32). None
            (default) runs in float32.
        chunk_size (int): Queries scored at a time (memory bound). Defaults
            to 1024.
    """

    def __init__(self, runner, dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 stage: str = 'test', dump_topk: int = 10,
                 amp: Optional[str] = None, chunk_size: int = 1024) -> None:
        super().__init__(runner, dataloader)
        self.chunk_size = chunk_size
        if amp not in AMP_DTYPES:
            raise ValueError(f'amp must be one of {list(AMP_DTYPES)}, got '
                             f'{amp!r}')
        self.dump_topk = dump_topk
        self.amp = amp
        if stage not in ('val', 'test'):
            raise ValueError(f'stage must be "val" or "test", got {stage!r}')
        self.stage = stage
        self.evaluator = runner.build_evaluator(evaluator) \
            if isinstance(evaluator, (dict, list)) else evaluator

    def run(self) -> dict:
        runner, stage = self.runner, self.stage
        runner.call_hook(f'before_{stage}')
        runner.call_hook(f'before_{stage}_epoch')
        runner.model.eval()
        parts = []
        for idx, data_batch in enumerate(self.dataloader):
            runner.call_hook(f'before_{stage}_iter', batch_idx=idx,
                             data_batch=data_batch)
            parts.append(self._features(data_batch))
            runner.call_hook(f'after_{stage}_iter', batch_idx=idx,
                             data_batch=data_batch, outputs=None)
        feats = RetrievalFeatures.merge(
            [part for rank_parts in all_gather_object(parts)
             for part in rank_parts], len(self.dataloader.dataset))
        model = getattr(runner.model, 'module', runner.model)
        with torch.no_grad(), autocast(self.amp, _device(model)):
            ranks = rank_with_model(model, feats, keep_topk=self.dump_topk,
                                    chunk_size=self.chunk_size)
        rank, world = get_dist_info()
        t2v, v2t = query_results(ranks, feats, self.dataloader.dataset)
        results = t2v[rank::world] + v2t[rank::world]
        self.evaluator.process(data_samples=results, data_batch=None)
        metrics = self.evaluator.evaluate(
            len(ranks['t2v_ranks']) + len(ranks['v2t_ranks']))
        runner.call_hook(f'after_{stage}_epoch', metrics=metrics)
        runner.call_hook(f'after_{stage}')
        return metrics

    def _features(self, data_batch: dict) -> Dict:
        return batch_features(
            getattr(self.runner.model, 'module', self.runner.model),
            data_batch, self.amp)


@torch.no_grad()
def batch_features(model: torch.nn.Module, data_batch: dict,
                   amp: Optional[str] = None) -> RetrievalFeatures:
    """``mode='tensor'`` features of one collated batch, on the CPU."""
    data = model.data_preprocessor(data_batch, False)
    with autocast(amp, _device(model)):
        feats = model(data['inputs'], data['data_samples'], mode='tensor')
    return feats.map(lambda t: t.cpu())


def rank_with_model(model: torch.nn.Module, feats: RetrievalFeatures,
                    keep_topk: int = 0,
                    chunk_size: int = 1024) -> Dict[str, torch.Tensor]:
    """:func:`retrieval_ranks` with the model's re-ranking (its
    ``rerank_scores`` on the top ``rerank_topk``)."""
    return retrieval_ranks(feats, scorer=model.rerank_scores,
                           rerank_topk=model.rerank_topk,
                           keep_topk=keep_topk, chunk_size=chunk_size)


def _device(model: torch.nn.Module) -> str:
    return next(model.parameters()).device.type


def autocast(amp: Optional[str], device: str):
    """``torch.autocast`` in the dtype named by ``amp`` (a no-op for
    None)."""
    if amp is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device, dtype=AMP_DTYPES[amp])


def query_results(ranks: Dict, feats: RetrievalFeatures,
                  dataset) -> Tuple[List[dict], List[dict]]:
    """One dict per text query and per video query: ``t2v_rank`` /
    ``v2t_rank`` and, when the dataset says them, the query, the ground
    truth and the top candidates by id (text ids are ``<video_id>#<n>``,
    the n-th caption of the video)."""
    infos = [dataset.get_data_info(int(i)) for i in feats.sample_idx]
    video_ids = [str(info.get('video_id', i)) for i, info in enumerate(infos)]
    text_to_video = feats.text_to_video.tolist()
    texts, text_ids = [], []
    for v, info in enumerate(infos):
        captions = info.get('text', [])
        captions = [captions] if isinstance(captions, str) else list(captions)
        texts += captions
        text_ids += [f'{video_ids[v]}#{n}' for n in range(len(captions))]
    if len(texts) != len(text_to_video):  # texts were not one per caption
        texts = text_ids = None
    video_texts = [[] for _ in video_ids]
    for t, v in enumerate(text_to_video):
        video_texts[v].append(t)
    t2v, v2t = [], []
    for t, r in enumerate(ranks['t2v_ranks'].tolist()):
        item = dict(t2v_rank=int(r),
                    gt_video_ids=[video_ids[text_to_video[t]]])
        if texts is not None:
            item.update(query_id=text_ids[t], query_text=texts[t])
        if 't2v_topk_indices' in ranks:
            item['topk_video_ids'] = [
                video_ids[i] for i in ranks['t2v_topk_indices'][t].tolist()]
            item['topk_scores'] = ranks['t2v_topk_scores'][t].tolist()
        t2v.append(item)
    for v, r in enumerate(ranks['v2t_ranks'].tolist()):
        item = dict(v2t_rank=int(r), query_id=video_ids[v])
        if texts is not None:
            item['gt_text_ids'] = [text_ids[t] for t in video_texts[v]]
        if 'v2t_topk_indices' in ranks:
            top = ranks['v2t_topk_indices'][v].tolist()
            if texts is not None:
                item['topk_text_ids'] = [text_ids[i] for i in top]
                item['topk_texts'] = [texts[i] for i in top]
            item['topk_scores'] = ranks['v2t_topk_scores'][v].tolist()
        v2t.append(item)
    return t2v, v2t
