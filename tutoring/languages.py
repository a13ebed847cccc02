"""The one rule for language codes that people type: a lesson's language, a preview's or a
student's preferred language. Forms, serializers and services all use `language_code_clean`,
so the web and the API accept exactly the same codes."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# BCP 47 in the shape people write it: a 2-3 letter language, then optional subtags
# (zh-hans, pt-BR, es-419). Not a registry lookup: the model is told the code as written.
LANGUAGE_CODE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
LANGUAGE_CODE_MESSAGE = _("Use a language code such as en, zh-hans or es.")


def language_code_clean(value: str) -> str:
    """`value` stripped and lower-cased ('' stays ''). Raises ValidationError (code
    "language_code") when it is not a well-formed language code."""
    value = value.strip()
    if value and not LANGUAGE_CODE.fullmatch(value):
        raise ValidationError(LANGUAGE_CODE_MESSAGE, code="language_code")
    return value.lower()
