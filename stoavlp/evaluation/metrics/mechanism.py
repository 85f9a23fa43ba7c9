"""Does each STOA-VLP part do its job? Metrics of the mechanism.

Read on multiple-choice items (a video, its true caption among
one-attribute edits and captions of other clips), from
``STOAVLPPretrainer.predict``. Each accuracy comes with its chance level.
"""
import json
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from stoavlp.registry import METRICS


def _np(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def ota_accuracy(samples: Sequence[dict]) -> Dict[str, float]:
    """OTA assignment accuracy and its chance level.

    A visible trajectory whose class the true caption names
    (``obj_noun_index >= 0``) is correct when OTA matched it to that noun's
    token. Chance: a uniformly random matching of the same size
    (``min(P, Q)`` pairs of P trajectories and Q candidates: the nouns and
    t_CLS) gets a trajectory its noun with probability
    ``min(P, Q) / (P * Q)``.
    """
    correct = total = chance = 0.0
    for s in samples:
        noun_index = _np(s['obj_noun_index'])
        if noun_index.ndim == 2:
            noun_index = noun_index[int(s.get('mc_label', 0))]
        valid = _np(s['trajectory_mask']).astype(bool)
        candidates = int(_np(s['noun_mask_true']).sum()) + 1
        matched = dict(zip(_np(s['ota_trajectory']).tolist(),
                           _np(s['ota_token']).tolist()))
        p = int(valid.sum())
        for n in np.flatnonzero(valid):
            if noun_index[n] < 0:
                continue
            total += 1
            correct += matched.get(int(n), -1) == noun_index[n]
            chance += min(p, candidates) / (p * candidates)
    if not total:
        return {}
    return {'ota/acc': 100 * correct / total,
            'ota/chance': 100 * chance / total,
            'ota/num_trajectories': total}


def asp_verb_coverage(samples: Sequence[dict]) -> Dict[str, float]:
    """Fraction of the true captions' verbs that some action token is
    matched to; chance ``min(M, V + 1) / (V + 1)`` per verb (random matching
    of M actions to V verbs and t_CLS)."""
    covered = total = chance = 0.0
    for s in samples:
        verbs = np.flatnonzero(_np(s['verb_mask_true']))
        matched = set(_np(s['asp_token']).tolist())
        m = int(s['num_actions'])
        for v in verbs:
            total += 1
            covered += int(v) in matched
            chance += min(m, len(verbs) + 1) / (len(verbs) + 1)
    if not total:
        return {}
    return {'asp/verb_coverage': 100 * covered / total,
            'asp/chance': 100 * chance / total}


def vtm_accuracy(samples: Sequence[dict]) -> Dict[str, float]:
    """VTM against random captions and against one-attribute edits.

    Two-alternative accuracies (chance 50): ``acc_random``, how often a
    video's true caption gets a higher ``P(match)`` than a random caption
    (another clip's); ``acc_edit``, than each one-attribute edit of it.
    Threshold-free, so they do not depend on the head's calibration (it is
    trained with one positive to two negatives). ``match_rate``: true pairs
    with ``P(match) > 0.5``. ``mc_acc_vtm``: the true caption ranks first
    among all the options by ``P(match)`` (chance 1 / options).
    """
    rand, edit, matched, mc, chance = [], defaultdict(list), [], [], []
    for s in samples:
        probs = _np(s['vtm_probs'])
        truth = int(s.get('mc_label', 0))
        kinds = s.get('mc_option_kinds') or []
        matched.append(probs[truth] > 0.5)
        rand.append(probs[truth] > probs[-1])
        for j, kind in enumerate(kinds):
            if kind.startswith('edit'):
                edit['all'].append(probs[truth] > probs[j])
                if ':' in kind:  # the attribute the edit changed
                    edit[kind.split(':', 1)[1]].append(probs[truth] >
                                                       probs[j])
        mc.append(int(np.argmax(probs[:-1])) == truth)
        chance.append(1 / (len(probs) - 1))
    out = {'vtm/acc_random': 100 * np.mean(rand),
           'vtm/chance': 50.0,
           'vtm/match_rate': 100 * np.mean(matched),
           'mc/acc_vtm': 100 * np.mean(mc),
           'mc/chance': 100 * np.mean(chance)}
    for attribute, wins in edit.items():
        key = 'vtm/acc_edit' if attribute == 'all' else \
            f'vtm/acc_edit_{attribute}'
        out[key] = 100 * np.mean(wins)
    return out


def centroid_probe(train_x: np.ndarray, train_y: np.ndarray,
                   test_x: np.ndarray) -> np.ndarray:
    """Scores of a nearest-class-mean linear probe.

    Per label ``k``, ``score_k(x) = x · (μ⁺_k − μ⁻_k) − (|μ⁺_k|² − |μ⁻_k|²)
    / 2`` with the means of the training rows with and without the label:
    half the difference of the squared distances to the two means, on the
    features as they are (standardising would weigh a noise dimension like
    the informative ones). No fitted intercept, so a label's frequency among a few hundred
    training clips does not decide the held-out predictions.

    Args:
        train_x (np.ndarray): ``(S, F)`` (their mean and the labels' means
            are computed on these rows).
        train_y (np.ndarray): ``(S, K)`` one-hot or multi-hot.
        test_x (np.ndarray): ``(S', F)``.

    Returns:
        np.ndarray: ``(S', K)`` scores (NaN for a label without a positive
        or a negative training row).
    """
    x, xt = train_x.astype(np.float64), test_x.astype(np.float64)
    out = np.full((len(test_x), train_y.shape[1]), np.nan)
    for label in range(train_y.shape[1]):
        pos = train_y[:, label] > 0
        if pos.all() or not pos.any():
            continue
        mu_p, mu_n = x[pos].mean(0), x[~pos].mean(0)
        out[:, label] = xt @ (mu_p - mu_n) - (mu_p @ mu_p - mu_n @ mu_n) / 2
    return out


def mean_auc(scores: np.ndarray, targets: np.ndarray) -> float:
    """Mean over labels (with both classes present) of the ROC AUC."""
    aucs = []
    for k in range(targets.shape[1]):
        known = ~np.isnan(scores[:, k])
        pos = scores[known & (targets[:, k] > 0), k]
        neg = scores[known & (targets[:, k] <= 0), k]
        if len(pos) and len(neg):
            aucs.append(((pos[:, None] > neg[None]).mean() +
                         0.5 * (pos[:, None] == neg[None]).mean()))
    return float(np.mean(aucs)) if aucs else float('nan')


@METRICS.register_module()
class PretrainMechanismMetric(BaseMetric):
    """OTA, ASP and VTM doing their jobs, with chance levels beside them.

    - ``ota/acc``: trajectories matched to their own class noun
      (:func:`ota_accuracy`); ``asp/verb_coverage``
      (:func:`asp_verb_coverage`).
    - ``vtm/acc_random``, ``vtm/acc_edit``, ``vtm/match_rate``,
      ``mc/acc_vtm`` (:func:`vtm_accuracy`).
    - With ``meta_file`` (the demo generator's ``meta.json``, which knows
      every clip's objects and split): linear probes fitted on the samples
      of ``probe_split`` clips and scored on the others
      (:func:`centroid_probe`); every other metric is computed on the others
      only. ``probe/action_set_auc_{actions,frames}``: the clip's set of
      actions from the action tokens vs from the mean frame token (mean
      AUC, chance 50). ``probe/object_{color,action}_{trajectory,frames}``:
      an object's colour / action from its trajectory token vs from the
      mean frame token plus a one-hot of the object's class (accuracy;
      ``..._chance``: always the most frequent training value).

    Args:
        meta_file (str, optional): Demo ``meta.json``.
        probe_split (str): Split whose clips train the probes. Defaults to
            ``'train'``.
        collect_device (str): Defaults to ``'cpu'``.
        prefix (str, optional): Defaults to None (keys as above).
    """

    default_prefix: Optional[str] = None

    def __init__(self, meta_file: Optional[str] = None,
                 probe_split: str = 'train',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.meta_file = meta_file
        self.probe_split = probe_split
        self._clips = None

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            truth = int(_np(sample.get('mc_label', 0)))
            row = {k: sample[k] for k in (
                'ota_trajectory', 'ota_token', 'asp_action', 'asp_token',
                'trajectory_mask', 'trajectory_tokens', 'action_tokens',
                'frame_feature', 'vtm_probs', 'obj_noun_index',
                'obj_classes', 'num_actions', 'mc_option_kinds', 'video_id')
                if k in sample}
            row['mc_label'] = truth
            for name in ('noun_mask', 'verb_mask'):
                mask = _np(sample[name])
                row[f'{name}_true'] = mask[truth] if mask.ndim == 2 else mask
            self.results.append(
                {k: _np(v) if isinstance(v, torch.Tensor) else v
                 for k, v in row.items()})

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        metrics, probe_rows = {}, []
        if self.meta_file:
            clips = self.clips()
            is_probe = [clips.get(r.get('video_id'), {}).get('split') ==
                        self.probe_split for r in results]
            probe_rows = [r for r, p in zip(results, is_probe) if p]
            results = [r for r, p in zip(results, is_probe) if not p]
        if results and 'ota_trajectory' in results[0]:
            metrics.update(ota_accuracy(results))
        if results and 'asp_token' in results[0]:
            metrics.update(asp_verb_coverage(results))
        if results and 'vtm_probs' in results[0]:
            metrics.update(vtm_accuracy(results))
        if self.meta_file:
            if len(probe_rows) < 10 or not results:
                MMLogger.get_current_instance().warning(
                    f'PretrainMechanismMetric: {len(probe_rows)} samples of '
                    f'{self.probe_split!r} clips to fit probes on and '
                    f'{len(results)} to score: no probes')
            else:
                metrics.update(self.probes(probe_rows, results))
        return {k: round(float(v), 2) for k, v in metrics.items()}

    # -- probes (the demo's truth) -----------------------------------------
    def clips(self) -> Dict[str, dict]:
        if self._clips is None:
            with open(self.meta_file, encoding='utf-8') as f:
                meta = json.load(f)
            self._clips = {c['video_id']: c for c in meta['clips']}
        return self._clips

    def probes(self, train: List[dict], test: List[dict]
               ) -> Dict[str, float]:
        clips = self.clips()
        objects = [o for c in clips.values() for o in c['objects']]
        actions = sorted({o['action'] for o in objects})
        colors = sorted({o['color'] for o in objects})
        shapes = sorted({o['shape'] for o in objects})

        def action_sets(rows):
            return np.array([[float(a in {o['action'] for o in clips[r[
                'video_id']]['objects']}) for a in actions] for r in rows])

        out = {}
        sources = [('frames', lambda r: r['frame_feature'])]
        if 'action_tokens' in test[0]:
            sources.append(('actions', lambda r: r['action_tokens'].reshape(
                -1)))
        for name, feature in sources:
            scores = centroid_probe(
                np.stack([feature(r) for r in train]), action_sets(train),
                np.stack([feature(r) for r in test]))
            out[f'probe/action_set_auc_{name}'] = 100 * mean_auc(
                scores, action_sets(test))
        if 'trajectory_tokens' in test[0]:
            fit = _object_rows(train, clips, colors, actions, shapes)
            held = _object_rows(test, clips, colors, actions, shapes)
            if len(fit['color']) and len(held['color']):
                for attr, vocab in (('color', colors), ('action', actions)):
                    labels = np.array(held[attr])
                    majority = np.bincount(fit[attr]).argmax()
                    out[f'probe/object_{attr}_chance'] = 100 * np.mean(
                        labels == majority)
                    for source in ('trajectory', 'frames'):
                        scores = centroid_probe(
                            np.stack(fit[source]),
                            np.eye(len(vocab))[fit[attr]],
                            np.stack(held[source]))
                        scores = np.where(np.isnan(scores), -np.inf, scores)
                        out[f'probe/object_{attr}_{source}'] = 100 * np.mean(
                            scores.argmax(1) == labels)
        return out


def _object_rows(rows, clips, colors, actions, shapes) -> Dict[str, list]:
    """Per visible, truly present trajectory: its token, the frame-token
    baseline (mean frame token + one-hot class) and the object's colour and
    action indices."""
    out = defaultdict(list)
    for r in rows:
        objects = {o['shape']: o for o in clips[r['video_id']]['objects']}
        valid = r['trajectory_mask'].astype(bool)
        for n, name in enumerate(list(r.get('obj_classes', []))):
            if n >= len(valid) or not valid[n] or name not in objects:
                continue  # absent, or a false detection
            obj = objects[name]
            out['trajectory'].append(r['trajectory_tokens'][n])
            out['frames'].append(np.concatenate([
                r['frame_feature'], np.eye(len(shapes))[shapes.index(name)]]))
            out['color'].append(colors.index(obj['color']))
            out['action'].append(actions.index(obj['action']))
    return out
