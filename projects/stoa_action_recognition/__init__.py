"""STOA-VLP action recognition as an mmaction2 project (see README.md)."""
