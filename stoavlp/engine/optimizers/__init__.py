from .guarded_optim_wrapper import GuardedAmpOptimWrapper, GuardedOptimWrapper

__all__ = ['GuardedAmpOptimWrapper', 'GuardedOptimWrapper']
