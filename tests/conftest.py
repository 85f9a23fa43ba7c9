"""Shared test setup: every test runs with stoavlp's modules registered."""
from stoavlp.utils import register_all_modules

register_all_modules()
