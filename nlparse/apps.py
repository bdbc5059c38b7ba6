from __future__ import annotations

from django.apps import AppConfig


class NlparseConfig(AppConfig):
    name = "nlparse"
    verbose_name = "Natural-language workflow drafts"
