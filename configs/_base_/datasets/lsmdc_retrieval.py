# LSMDC retrieval (101k train clips, 1000 test clips).
_base_ = ['./video_text_retrieval.py']

dataset_type = 'LSMDCRetrievalDataset'
data_root = 'data/lsmdc'
data_prefix = dict(video='avi', objects='objects')

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='LSMDC16_annos_training.csv',
        nested_by_movie=True,
        data_root=data_root,
        data_prefix=data_prefix))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file='LSMDC16_challenge_1000_publictect.csv',
        nested_by_movie=True,
        data_root=data_root,
        data_prefix=data_prefix))
test_dataloader = val_dataloader
