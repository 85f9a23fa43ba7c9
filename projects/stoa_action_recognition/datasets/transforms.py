"""Bridge from mmaction2's ``VideoDataset`` to stoavlp's box transforms."""
import os.path as osp
from typing import Dict

from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform


@TRANSFORMS.register_module()
class AddDetectionPath(BaseTransform):
    """Set ``objects_path``, the detection file of the clip's video.

    ``VideoDataset`` only knows ``filename``; ``stoavlp.LoadObjectDetections``
    reads ``objects_path``. The detection file mirrors the video: same stem,
    ``ext``, in ``objects_dir`` relative to the video's folder (the demo data
    and stoavlp's datasets keep ``videos/x.mp4`` next to ``objects/x.json``).

    Required Keys:

        - filename (str)

    Added Keys:

        - objects_path (str)

    Args:
        objects_dir (str): Folder of the detection files, relative to the
            folder of the video (or absolute). Defaults to ``'../objects'``.
        ext (str): Extension of the detection files. Defaults to
            ``'.json'``.
    """

    def __init__(self, objects_dir: str = '../objects',
                 ext: str = '.json') -> None:
        self.objects_dir = objects_dir
        self.ext = ext

    def transform(self, results: Dict) -> Dict:
        video = results['filename']
        stem = osp.splitext(osp.basename(video))[0]
        folder = osp.join(osp.dirname(video), self.objects_dir)
        results['objects_path'] = osp.normpath(
            osp.join(folder, stem + self.ext))
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(objects_dir={self.objects_dir!r}'
                f', ext={self.ext!r})')
