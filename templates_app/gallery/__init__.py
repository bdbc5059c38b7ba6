"""The built-in templates that ship with Flowbuilder (``manage.py seed_templates`` installs them).

Each entry is a :class:`templates_app.services.BuiltinTemplate` with a stable ``key``; a new
template is one more entry in one of these modules.
"""

from __future__ import annotations

from templates_app.gallery import ai_and_approvals, customers, data, operations, sales
from templates_app.services import BuiltinTemplate

GALLERY: tuple[BuiltinTemplate, ...] = (
    *sales.TEMPLATES,
    *operations.TEMPLATES,
    *ai_and_approvals.TEMPLATES,
    *data.TEMPLATES,
    *customers.TEMPLATES,
)
