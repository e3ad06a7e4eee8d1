"""Selaras: the agreement between Sales and Marketing, in software."""

from .celery import app as celery_app

__all__ = ("celery_app",)
