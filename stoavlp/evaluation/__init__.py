"""Metrics (captioning, retrieval, QA) are added with the downstream milestone."""
