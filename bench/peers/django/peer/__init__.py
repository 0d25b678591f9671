# As Celery's "First steps with Django" has it: the app is loaded when Django starts, so shared_task binds to it.
from .celery import app as celery_app

__all__ = ("celery_app",)
