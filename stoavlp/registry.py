"""stoavlp registries.

Every registry is a child of mmaction2's (which are children of MMEngine's),
so a config with ``default_scope='stoavlp'`` can name mmaction2 parts such as
``DecordInit`` or ``UniformSample`` directly, and stoavlp parts are found
from mmaction2/mmengine scopes as ``stoavlp.<Name>``.
"""
from mmaction.registry import DATA_SAMPLERS as MMACTION_DATA_SAMPLERS
from mmaction.registry import DATASETS as MMACTION_DATASETS
from mmaction.registry import EVALUATOR as MMACTION_EVALUATOR
from mmaction.registry import HOOKS as MMACTION_HOOKS
from mmaction.registry import LOG_PROCESSORS as MMACTION_LOG_PROCESSORS
from mmaction.registry import LOOPS as MMACTION_LOOPS
from mmaction.registry import METRICS as MMACTION_METRICS
from mmaction.registry import MODEL_WRAPPERS as MMACTION_MODEL_WRAPPERS
from mmaction.registry import MODELS as MMACTION_MODELS
from mmaction.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMACTION_OPTIM_WRAPPER_CONSTRUCTORS
from mmaction.registry import OPTIM_WRAPPERS as MMACTION_OPTIM_WRAPPERS
from mmaction.registry import OPTIMIZERS as MMACTION_OPTIMIZERS
from mmaction.registry import PARAM_SCHEDULERS as MMACTION_PARAM_SCHEDULERS
from mmaction.registry import RUNNER_CONSTRUCTORS as \
    MMACTION_RUNNER_CONSTRUCTORS
from mmaction.registry import RUNNERS as MMACTION_RUNNERS
from mmaction.registry import TASK_UTILS as MMACTION_TASK_UTILS
from mmaction.registry import TOKENIZER as MMACTION_TOKENIZER
from mmaction.registry import TRANSFORMS as MMACTION_TRANSFORMS
from mmaction.registry import VISBACKENDS as MMACTION_VISBACKENDS
from mmaction.registry import VISUALIZERS as MMACTION_VISUALIZERS
from mmaction.registry import WEIGHT_INITIALIZERS as \
    MMACTION_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

RUNNERS = Registry(
    'runner', parent=MMACTION_RUNNERS, locations=['stoavlp.engine'])
RUNNER_CONSTRUCTORS = Registry(
    'runner constructor',
    parent=MMACTION_RUNNER_CONSTRUCTORS,
    locations=['stoavlp.engine'])
LOOPS = Registry('loop', parent=MMACTION_LOOPS, locations=['stoavlp.engine'])
HOOKS = Registry('hook', parent=MMACTION_HOOKS, locations=['stoavlp.engine'])
LOG_PROCESSORS = Registry(
    'log processor',
    parent=MMACTION_LOG_PROCESSORS,
    locations=['stoavlp.engine'])
OPTIMIZERS = Registry(
    'optimizer', parent=MMACTION_OPTIMIZERS, locations=['stoavlp.engine'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper',
    parent=MMACTION_OPTIM_WRAPPERS,
    locations=['stoavlp.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMACTION_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['stoavlp.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler',
    parent=MMACTION_PARAM_SCHEDULERS,
    locations=['stoavlp.engine'])

DATASETS = Registry(
    'dataset', parent=MMACTION_DATASETS, locations=['stoavlp.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler',
    parent=MMACTION_DATA_SAMPLERS,
    locations=['stoavlp.datasets'])
TRANSFORMS = Registry(
    'transform',
    parent=MMACTION_TRANSFORMS,
    locations=['stoavlp.datasets.transforms'])
# Text tokenizers (CLIP BPE) and part-of-speech taggers.
TOKENIZERS = Registry(
    'tokenizer',
    parent=MMACTION_TOKENIZER,
    locations=['stoavlp.datasets.text'])

MODELS = Registry('model', parent=MMACTION_MODELS, locations=['stoavlp.models'])
MODEL_WRAPPERS = Registry(
    'model_wrapper',
    parent=MMACTION_MODEL_WRAPPERS,
    locations=['stoavlp.models'])
WEIGHT_INITIALIZERS = Registry(
    'weight initializer',
    parent=MMACTION_WEIGHT_INITIALIZERS,
    locations=['stoavlp.models'])
TASK_UTILS = Registry(
    'task util', parent=MMACTION_TASK_UTILS, locations=['stoavlp.models'])

METRICS = Registry(
    'metric', parent=MMACTION_METRICS, locations=['stoavlp.evaluation'])
EVALUATOR = Registry(
    'evaluator', parent=MMACTION_EVALUATOR, locations=['stoavlp.evaluation'])

VISUALIZERS = Registry(
    'visualizer',
    parent=MMACTION_VISUALIZERS,
    locations=['stoavlp.visualization'])
VISBACKENDS = Registry(
    'vis_backend',
    parent=MMACTION_VISBACKENDS,
    locations=['stoavlp.visualization'])
