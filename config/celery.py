"""The Celery app. Its configuration lives in settings.py under the CELERY_ prefix."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import worker_init
from django.conf import settings

from llm.tokens import count_tokens

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("lantern")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _load_token_counter(**_: Any) -> None:
    """Load the tokenizer's tables (seconds of CPU, once per process) before taking tasks.

    Otherwise the first generations after every start pay for it inside their claim
    transactions, holding a pooled database connection each while they wait.
    """
    count_tokens("warm up", settings.LLM_MODEL)
