"""WebVid-2M (pre-training video-caption pairs)."""
from typing import List

from stoavlp.registry import DATASETS
from .base import BaseVideoTextDataset, read_csv


@DATASETS.register_module()
class WebVidDataset(BaseVideoTextDataset):
    """WebVid-2M/10M from its csv (``videoid, name, page_dir, ...``).

    Videos are ``<video folder>/<page_dir>/<videoid>.mp4`` (the layout of the
    WebVid download script) and detection files mirror them under the
    objects folder. One item per row; ``text`` = the ``name`` column.
    """

    def load_data_list(self) -> List[dict]:
        items = []
        for _, row in read_csv(self.ann_file, ['videoid', 'name',
                                               'page_dir']):
            name = f'{row["page_dir"]}/{row["videoid"]}'.lstrip('/')
            items.append(self.make_item(row['videoid'], row['name'], name))
        return items
