"""Backbones, necks, heads, losses and algorithms are added with the model milestone."""
