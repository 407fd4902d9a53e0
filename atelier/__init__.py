"""Atelier: a web studio and marketplace for AI-made art."""

__version__ = "0.1.0"
