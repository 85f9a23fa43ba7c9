"""Try trained stoavlp models in a browser (Gradio): caption an uploaded
video, ask a question about it, search a folder of videos with text.

    pip install -e .[webui]
    python demo/webui.py [--caption CONFIG CKPT] [--qa CONFIG CKPT]
        [--retrieval CONFIG CKPT --gallery DIR [--cache FILE]]
        [--objects-dir DIR] [--device cpu] [--host 127.0.0.1] [--port 7860]

Only the tabs of the models given appear (at least one). The gallery is
encoded once at start-up into a feature cache (default
``DIR/.stoavlp_features.pt``, the one ``demo/search_videos.py`` uses, so
either reuses the other's work); "Rescan gallery" encodes only new or
changed videos. Search results show each video's middle frame and score.
``--objects-dir`` holds detection files named after the videos (an upload
keeps its file name; one without a file there is refused, naming the file
looked for); without it the models run without objects (warned).
Checkpoints are loaded as the other demo scripts load them: the project's
own training checkpoints are trusted (``stoavlp.compat``); give this
server only checkpoints you trust.
"""
import argparse
import os
import os.path as osp
import sys
import threading
from typing import Optional

try:
    import stoavlp  # noqa: F401
except ImportError:  # run from a checkout without ``pip install -e .``
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

TASKS = ('caption', 'qa', 'retrieval')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    for task in TASKS:
        parser.add_argument(f'--{task}', nargs=2, metavar=('CONFIG', 'CKPT'),
                            help=f'{task} model: config (or model-index '
                            'name) and checkpoint')
    parser.add_argument('--gallery', help='folder of videos to search')
    parser.add_argument('--cache', help='feature cache file (default: '
                        'GALLERY/.stoavlp_features.pt)')
    parser.add_argument('--objects-dir',
                        help='detection files named after the videos')
    parser.add_argument('--topk', type=int, default=8,
                        help='default number of search results')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--host', default='127.0.0.1',
                        help='0.0.0.0 to serve other machines too')
    parser.add_argument('--port', type=int, default=7860)
    args = parser.parse_args(argv)
    if not any(getattr(args, task) for task in TASKS):
        parser.error('give at least one of --caption, --qa, --retrieval')
    if bool(args.retrieval) != bool(args.gallery):
        parser.error('--retrieval and --gallery go together')
    return args


def load_inferencers(args) -> dict:
    """``{task: inferencer}`` of the models given, loaded once at start-up
    (a request then only runs the model)."""
    from stoavlp.apis import (TextToVideoRetrievalInferencer,
                              VideoCaptionInferencer, VideoQAInferencer,
                              init_model)
    from stoavlp.compat import trusted_checkpoints
    classes = dict(caption=VideoCaptionInferencer, qa=VideoQAInferencer,
                   retrieval=TextToVideoRetrievalInferencer)
    # show_progress=False: a bar per request would only clutter the log
    common = dict(objects_dir=args.objects_dir, show_progress=False)
    out = {}
    for task in TASKS:
        if not getattr(args, task):
            continue
        config, checkpoint = getattr(args, task)
        with trusted_checkpoints():  # as the demo/ scripts (load_model)
            model = init_model(config, checkpoint, args.device)
        kwargs = dict(common)
        if task == 'retrieval':
            kwargs.update(gallery=args.gallery, cache=args.cache or osp.join(
                args.gallery, '.stoavlp_features.pt'))
        out[task] = classes[task](model, **kwargs)
    return out


def middle_frame(path: str, cache: dict):
    """The middle frame of a video (decord), cached by path and mtime so a
    repeated query does not decode the gallery again."""
    from stoavlp.visualization.loading import video_frames
    key = (path, os.stat(path).st_mtime_ns)
    if key not in cache:
        cache[key] = video_frames(path, num_frames=1)[0]
    return cache[key]


def gallery_status(search) -> str:
    text = (f'{len(search.gallery)} videos, {search.num_encoded} encoded '
            'at the last scan')
    for path, err in search.errors.items():
        text += f'\n- left out `{osp.basename(path)}`: {err}'
    return text


def build_demo(inferencers: dict, gallery: Optional[str] = None,
               topk: int = 8):
    """The Gradio app: one tab per inferencer, each action also an API
    endpoint (``/caption``, ``/qa``, ``/search``, ``/rescan``) for
    ``gradio_client`` and scripts. ``gallery``: what a rescan lists."""
    import gradio as gr

    def first(result: dict) -> dict:
        pred = result['predictions'][0]
        if 'error' in pred:  # unreadable or too short: say so in the page
            raise gr.Error(f'this video cannot be used: {pred["error"]}')
        return pred

    def need_video(video):
        if not video:
            raise gr.Error('upload a video first')
        return video

    def caption(video):
        return first(inferencers['caption'](need_video(video)))['caption']

    def answer(video, question):
        if not question or not question.strip():
            raise gr.Error('type a question')
        pred = first(inferencers['qa'](need_video(video), question.strip()))
        return pred['answer'], pred['scores']

    frames: dict = {}
    # a rescan (set_gallery) replaces the features a query ranks: never
    # both at once (Gradio runs events in threads)
    lock = threading.Lock()

    def search(query, k):
        if not query or not query.strip():
            raise gr.Error('type a query')
        with lock:
            pred = inferencers['retrieval'](query.strip(),
                                            topk=int(k))['predictions'][0]
        return [(middle_frame(path, frames),
                 f'#{place} {osp.basename(path)}  {score:.4f}')
                for place, (path, score) in enumerate(
                    zip(pred['videos'], pred['scores']), 1)]

    def rescan():
        with lock:
            try:
                inferencers['retrieval'].set_gallery(gallery)
            except (ValueError, FileNotFoundError) as err:  # none usable
                raise gr.Error(str(err))
        return gallery_status(inferencers['retrieval'])

    # analytics off: it would call home, and this often runs offline
    with gr.Blocks(title='stoavlp demo', analytics_enabled=False) as demo:
        gr.Markdown('# STOA-VLP demo')
        if 'caption' in inferencers:
            with gr.Tab('Caption'):
                video = gr.Video(label='video', sources=['upload'])
                button = gr.Button('Caption', variant='primary')
                text = gr.Textbox(label='caption', interactive=False)
                button.click(caption, video, text, api_name='caption')
        if 'qa' in inferencers:
            with gr.Tab('Question answering'):
                video = gr.Video(label='video', sources=['upload'])
                question = gr.Textbox(label='question',
                                      placeholder='what is moving left?')
                button = gr.Button('Answer', variant='primary')
                text = gr.Textbox(label='answer', interactive=False)
                scores = gr.Label(label='most probable answers')
                inputs = [video, question]
                button.click(answer, inputs, [text, scores], api_name='qa')
                question.submit(answer, inputs, [text, scores],
                                api_visibility='private')
        if 'retrieval' in inferencers:
            search_ = inferencers['retrieval']
            with gr.Tab('Search'):
                status = gr.Markdown(gallery_status(search_))
                with gr.Row():
                    query = gr.Textbox(label='query', scale=4,
                                       placeholder='a red circle moving left')
                    k = gr.Slider(1, max(1, len(search_.gallery)), step=1,
                                  value=min(topk, len(search_.gallery)),
                                  label='results')
                with gr.Row():
                    button = gr.Button('Search', variant='primary')
                    rescan_button = gr.Button('Rescan gallery')
                results = gr.Gallery(label='results', columns=4,
                                     object_fit='contain')
                button.click(search, [query, k], results, api_name='search')
                query.submit(search, [query, k], results,
                             api_visibility='private')
                rescan_button.click(rescan, None, status, api_name='rescan')
    return demo


def main(argv=None) -> None:
    args = parse_args(argv)
    inferencers = load_inferencers(args)
    if 'retrieval' in inferencers:
        print(f'[webui] gallery: {gallery_status(inferencers["retrieval"])}',
              flush=True)
    demo = build_demo(inferencers, args.gallery, args.topk)
    print(f'[webui] serving {", ".join(inferencers)} on '
          f'http://{args.host}:{args.port}', flush=True)
    demo.queue().launch(server_name=args.host, server_port=args.port)


if __name__ == '__main__':
    main()
