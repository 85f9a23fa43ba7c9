"""Mechanism metrics against assignments worked out by hand."""
import numpy as np
import pytest
import torch

from stoavlp.evaluation.metrics.mechanism import (PretrainMechanismMetric,
                                                  asp_verb_coverage,
                                                  mean_auc, ota_accuracy,
                                                  centroid_probe,
                                                  vtm_accuracy)


def _sample(**kw):
    base = dict(mc_label=0, num_actions=2)
    base.update(kw)
    return base


def test_ota_accuracy_and_chance_by_hand():
    # clip 1: 3 trajectories (2 named: nouns at 2 and 5), nouns 2, 5 + EOT 7
    # -> Q = 3 candidates. OTA matched 0->2 (right), 1->7 (wrong), 2->5.
    one = _sample(obj_noun_index=np.array([2, 5, -1]),
                  trajectory_mask=np.array([1, 1, 1]),
                  noun_mask_true=np.array([0, 0, 1, 0, 0, 1, 0, 0]),
                  ota_trajectory=np.array([0, 1, 2]),
                  ota_token=np.array([2, 7, 5]))
    # clip 2: 1 trajectory named at 3, matched to 3; one noun -> Q = 2
    two = _sample(obj_noun_index=np.array([[9, 9], [3, -1]]), mc_label=1,
                  trajectory_mask=np.array([1, 0]),
                  noun_mask_true=np.array([0, 0, 0, 1, 0]),
                  ota_trajectory=np.array([0]), ota_token=np.array([3]))
    out = ota_accuracy([one, two])
    assert out['ota/num_trajectories'] == 3
    assert out['ota/acc'] == pytest.approx(100 * 2 / 3)
    # chance: clip 1 min(3,3)/(3*3) = 1/3 for each of 2; clip 2: 1/(1*2)
    assert out['ota/chance'] == pytest.approx(100 * (1 / 3 + 1 / 3 + 1 / 2)
                                              / 3)


def test_asp_verb_coverage_by_hand():
    # verbs at 3 and 6, M = 2 actions matched to 6 and EOT 8: 1 of 2
    s = _sample(verb_mask_true=np.array([0, 0, 0, 1, 0, 0, 1, 0, 0]),
                asp_token=np.array([6, 8]), num_actions=2)
    out = asp_verb_coverage([s])
    assert out['asp/verb_coverage'] == 50
    assert out['asp/chance'] == pytest.approx(100 * 2 / 3)


def test_vtm_accuracy_by_hand():
    a = _sample(vtm_probs=np.array([0.9, 0.6, 0.2, 0.1]), mc_label=0,
                mc_option_kinds=['truth', 'edit', 'other'])
    b = _sample(vtm_probs=np.array([0.3, 0.4, 0.5, 0.7]), mc_label=1,
                mc_option_kinds=['edit:color', 'truth', 'edit:action'])
    out = vtm_accuracy([a, b])
    # truth vs random (last): a 0.9 > 0.1 yes, b 0.4 > 0.7 no
    assert out['vtm/acc_random'] == 50 and out['vtm/chance'] == 50
    # truth vs edits: a 0.9 > 0.6, b 0.4 > 0.3 (colour), 0.4 < 0.5 (action)
    assert out['vtm/acc_edit'] == pytest.approx(100 * 2 / 3)
    assert out['vtm/acc_edit_color'] == 100
    assert out['vtm/acc_edit_action'] == 0
    assert out['vtm/match_rate'] == 50   # 0.9 > 0.5, 0.4 not
    # b's truth 0.4 loses to the action edit 0.5
    assert out['mc/acc_vtm'] == 50 and out['mc/chance'] == pytest.approx(
        100 / 3)


def test_centroid_probe_equals_distances_and_auc_brute_force():
    g = np.random.default_rng(0)
    x = g.normal(size=(40, 3))
    y = np.eye(2)[(x[:, 0] > 0).astype(int)]
    scores = centroid_probe(x[:30], y[:30], x[30:])
    a, b = x[:30], x[30:]
    for label in range(2):
        mu_p = a[y[:30, label] > 0].mean(0)
        mu_n = a[y[:30, label] <= 0].mean(0)
        # half the difference of squared distances to the two means
        want = (((b - mu_n)**2).sum(1) - ((b - mu_p)**2).sum(1)) / 2
        assert np.allclose(scores[:, label], want)
    assert np.mean(scores.argmax(1) == y[30:].argmax(1)) >= 0.8
    assert np.isnan(centroid_probe(x, np.ones((40, 1)), x)).all()
    s = np.array([[0.1], [0.4], [0.35], [0.8]])
    t = np.array([[0], [0], [1], [1]])
    # pairs (pos, neg): (.35,.1) (.35,.4)x (.8,.1) (.8,.4) -> 3/4
    assert mean_auc(s, t) == pytest.approx(0.75)


def test_metric_end_to_end_from_data_samples(tmp_path):
    import json
    clips = [dict(video_id=f'v{i}', group=i // 2,
                  split='train' if i < 16 else 'test',
                  objects=[dict(shape='circle', color=('red', 'blue')[i % 2],
                                action=('grow', 'spin')[i // 2 % 2])])
             for i in range(24)]
    meta = tmp_path / 'meta.json'
    meta.write_text(json.dumps(dict(clips=clips)))
    metric = PretrainMechanismMetric(meta_file=str(meta))
    g = torch.Generator().manual_seed(0)
    samples = []
    for c in clips:
        color = c['objects'][0]['color'] == 'red'
        token = 0.3 * torch.randn(4, generator=g)
        token[0] += 3 * color  # the trajectory token knows the colour
        samples.append(dict(
            video_id=c['video_id'], mc_label=torch.tensor(0),
            obj_classes=['circle'], num_actions=1,
            obj_noun_index=torch.tensor([[2], [2]]),
            noun_mask=torch.tensor([[0, 0, 1, 0], [0, 0, 1, 0]]),
            verb_mask=torch.tensor([[0, 0, 0, 1], [0, 0, 0, 1]]),
            trajectory_mask=torch.tensor([True]),
            trajectory_tokens=token[None], action_tokens=token[None],
            frame_feature=torch.randn(4, generator=g),
            ota_trajectory=torch.tensor([0]), ota_token=torch.tensor([2]),
            asp_action=torch.tensor([0]), asp_token=torch.tensor([3]),
            vtm_probs=torch.tensor([0.9, 0.2, 0.1]),
            mc_option_kinds=['truth', 'edit']))
    metric.process(None, samples)
    out = metric.evaluate(len(samples))
    assert out['ota/acc'] == 100 and out['asp/verb_coverage'] == 100
    assert out['vtm/acc_edit'] == 100
    assert out['probe/object_color_trajectory'] > 90
    assert out['probe/object_color_frames'] < 80
    assert out['probe/object_color_chance'] == 50
    assert out['ota/num_trajectories'] == 8   # the 8 test clips only
