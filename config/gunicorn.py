"""gunicorn's settings, read from the environment, so that a bigger deployment changes numbers,
not commands (docs/scaling.md has the sizing table):

- WEB_CONCURRENCY: worker processes (default: 2 per core + 1, gunicorn's own advice);
- GUNICORN_THREADS: threads per worker (default 1; more serves slow clients without more memory,
  each thread holding its own database connection);
- GUNICORN_TIMEOUT: seconds before a stuck worker is replaced (default 60; exports run in Celery);
- GUNICORN_MAX_REQUESTS: requests before a worker is recycled (default 2,000, with jitter), which
  bounds the memory a long-lived worker can grow to.

Used as `gunicorn config.wsgi:application --config python:config.gunicorn` (Dockerfile, compose).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
threads = int(os.environ.get("GUNICORN_THREADS") or 1)
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 60)
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS") or 2000)
max_requests_jitter = max_requests // 10
accesslog = "-"
