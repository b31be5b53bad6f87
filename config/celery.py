"""The Celery app. Jobs live in each app's `jobs.py` (the app `tasks` owns the word);
queueing from a request goes through core.jobs.enqueue."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(related_name="jobs")
