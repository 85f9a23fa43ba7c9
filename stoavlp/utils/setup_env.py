"""Registering all stoavlp modules (the OpenMMLab ``setup_env`` pattern)."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every stoavlp module so that its parts are registered.

    Args:
        init_default_scope (bool): Whether to set ``stoavlp`` as the default
            scope of MMEngine's registries. Defaults to True.
    """
    import mmaction.datasets  # noqa: F401,F403  (parent transforms)

    import stoavlp.datasets  # noqa: F401,F403
    import stoavlp.engine  # noqa: F401,F403
    import stoavlp.evaluation  # noqa: F401,F403
    import stoavlp.models  # noqa: F401,F403
    import stoavlp.visualization  # noqa: F401,F403

    if not init_default_scope:
        return
    never_created = DefaultScope.get_current_instance() is None \
        or not DefaultScope.check_instance_created('stoavlp')
    if never_created:
        DefaultScope.get_instance('stoavlp', scope_name='stoavlp')
        return
    current_scope = DefaultScope.get_current_instance()
    if current_scope.scope_name != 'stoavlp':
        warnings.warn('The current default scope '
                      f'"{current_scope.scope_name}" is not "stoavlp"; '
                      '`register_all_modules` will force it to "stoavlp".')
        # avoid name conflicts between instances created at the same time
        new_instance_name = f'stoavlp-{datetime.datetime.now()}'
        DefaultScope.get_instance(new_instance_name, scope_name='stoavlp')
