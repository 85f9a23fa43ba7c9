"""STOAVLPQuestionAnswerer with the classifier and first-token heads."""
import pytest
import torch

from algorithm_helpers import build, encoders
from stoavlp.registry import MODELS

ANSWERS = ('red', 'blue', 'spinning')


def qa_model(tiny_cfg, head):
    qa_head = dict(type='QAClassifierHead', width=32, dropout=0.0,
                   num_classes=len(ANSWERS)) \
        if head == 'classifier' else dict(
            type='QAFirstTokenHead', width=32,
            lm_head=dict(type='TiedLMHead', width=32, dropout=0.0))
    return build(dict(encoders(tiny_cfg), type='STOAVLPQuestionAnswerer',
                      qa_head=qa_head))


def labelled(model, make_batch, prepare):
    inputs, samples = prepare(model, make_batch(seed=7))
    for sample, (answer, label) in zip(samples, [('red', 0), ('blue', 1),
                                                 ('green', -1)]):
        sample.set_metainfo(dict(answer=answer))
        sample.set_field(torch.tensor(label), 'answer_label')
    return inputs, samples


@pytest.mark.parametrize('head', ['classifier', 'first_token'])
def test_question_answering(tiny_cfg, make_batch, prepare, head):
    model = qa_model(tiny_cfg, head).train()
    model.dataset_meta = dict(answers=ANSWERS)
    inputs, samples = labelled(model, make_batch, prepare)
    loss = model(inputs, samples, mode='loss')['loss_qa']
    assert torch.isfinite(loss)
    loss.backward()
    assert model.qa_head.answer_slot.grad is not None
    out = model.eval()(inputs, samples, mode='predict')
    assert all(isinstance(s.pred_answer, str) for s in out)
    with torch.no_grad():
        features = model.extract_features(inputs, samples)
        logits = model.qa_head.logits(features)
    for sample, row in zip(out, logits):
        assert sample.pred_label == int(row.argmax())
        torch.testing.assert_close(sample.pred_score, row.softmax(-1))
    if head == 'classifier':
        # the slot's class scores decide the answer, named by the dataset
        assert [s.pred_answer for s in out] == [
            ANSWERS[i] for i in logits.argmax(-1)]
        scores = out[0].answer_scores
        assert list(scores) == [ANSWERS[i] for i in
                                logits[0].argsort(descending=True)]
        assert sum(scores.values()) == pytest.approx(1.0, abs=1e-5)


def test_the_classifier_loss_ignores_answers_outside_the_vocabulary(
        tiny_cfg, make_batch, prepare):
    model = qa_model(tiny_cfg, 'classifier')
    inputs, samples = labelled(model, make_batch, prepare)
    with torch.no_grad():
        loss = model(inputs, samples, mode='loss')['loss_qa']
        logits = model.qa_head.logits(model.extract_features(inputs,
                                                             samples))
    want = torch.nn.functional.cross_entropy(logits[:2].float(),
                                             torch.tensor([0, 1]))
    assert loss.item() == pytest.approx(want.item(), rel=1e-5)
    samples[0].set_field(torch.tensor(5), 'answer_label')
    with pytest.raises(ValueError, match='answer_label 5 >= num_classes 3'):
        model(inputs, samples, mode='loss')


def test_without_answer_names_predictions_carry_the_class_index(
        tiny_cfg, make_batch, prepare):
    model = qa_model(tiny_cfg, 'classifier')
    inputs, samples = labelled(model, make_batch, prepare)
    out = model(inputs, samples, mode='predict')
    assert all('pred_answer' not in s for s in out)
    assert all(0 <= s.pred_label < 3 for s in out)
    model.dataset_meta = dict(answers=('a', 'b'))
    with pytest.raises(ValueError, match='2 answers for a head of 3'):
        model(inputs, samples, mode='predict')


def test_qa_needs_a_fusion_encoder(tiny_cfg):
    cfg = dict(encoders(tiny_cfg), type='STOAVLPQuestionAnswerer',
               qa_head=dict(type='QAClassifierHead', width=32,
                            num_classes=3))
    cfg.pop('fusion_encoder')
    with pytest.raises(ValueError, match='needs a fusion_encoder'):
        MODELS.build(cfg)
