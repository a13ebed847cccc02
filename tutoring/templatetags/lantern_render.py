"""Template door to tutoring.rendering: `{% load lantern_render %}`.

`{{ answer.text|markdown }}` for Markdown with math (LLM output, lesson material) and
`{{ message.text|plaintext }}` for text shown as typed (student messages). Never use
`|safe` on untrusted text: these two filters are the only way it becomes HTML.
"""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from tutoring.rendering import render_markdown, render_plain

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(value: object) -> SafeString:
    return render_markdown(_as_text(value))


@register.filter(name="plaintext")
def plaintext_filter(value: object) -> SafeString:
    return render_plain(_as_text(value))


def _as_text(value: object) -> str:
    # An unset field renders as nothing rather than the string "None".
    return "" if value is None else str(value)
