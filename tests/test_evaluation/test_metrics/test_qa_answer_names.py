"""QA answers by class index: the dataset names them (metainfo['answers'])
and QAAccuracy reads the names from its dataset_meta."""
import json

import pytest

from stoavlp.datasets import MSRVTTQADataset
from stoavlp.evaluation import QAAccuracy


@pytest.fixture
def qa_root(tmp_path):
    answers = ['red'] * 3 + ['Blue'] * 2 + ['two', 'spinning']
    entries = [dict(question=f'q{i}?', answer=a, video_id=i)
               for i, a in enumerate(answers)]
    (tmp_path / 'train_qa.json').write_text(json.dumps(entries))
    return tmp_path


def build(root, size):
    return MSRVTTQADataset(
        ann_file='train_qa.json', data_root=str(root),
        data_prefix=dict(video='videos'), pipeline=[], test_mode=True,
        answer_vocab=dict(ann_file='train_qa.json', size=size))


def test_the_dataset_names_its_answer_classes(qa_root):
    dataset = build(qa_root, 3)
    # most frequent first, ties alphabetical; normalised (lower case)
    assert dataset.metainfo['answers'] == ('red', 'blue', 'spinning')
    labels = [dataset.get_data_info(i)['answer_label']
              for i in range(len(dataset))]
    assert labels == [0, 0, 0, 1, 1, -1, 2]


def test_a_vocabulary_larger_than_the_answers_is_an_error(qa_root):
    with pytest.raises(ValueError, match=r'size=9, but .*train_qa.json '
                                         r'holds only 4 distinct answers'):
        build(qa_root, 9)


def test_qa_accuracy_names_class_indices(qa_root):
    metric = QAAccuracy()
    metric.dataset_meta = build(qa_root, 3).metainfo
    metric.process(None, [dict(pred_label=0, answer='red', question='what?'),
                          dict(pred_label=2, answer='blue', question='what?'),
                          dict(pred_answer='Blue', answer='blue',
                               question='what?')])
    assert metric.evaluate(3)['qa/acc'] == pytest.approx(200 / 3)
    bare = QAAccuracy()
    with pytest.raises(KeyError, match='names no answers'):
        bare.process(None, [dict(pred_label=0, answer='red')])
