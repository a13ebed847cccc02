"""The web's one mapping of domain errors (base.errors.LanternError) to what a page shows.

- `page_error_raise`: a 404 becomes Django's 404 page, a 403 its 403 page, the same as the
  school door's own answers (accounts.access.SchoolViewMixin applies it to every school
  page, so views need not catch NotFound/PermissionDeniedError themselves).
- `form_error_add`: any other error a view catches is shown on the form that was submitted,
  `error_message_for_page` gives its text for a message or a notice; both still answer a
  404 error with the 404 page (`not_found_raise`).

The API's one mapping is the exception handler in base.api_errors.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404

from base.errors import LanternError


def not_found_raise(error: LanternError) -> None:
    """Raise Http404 for a 404 error: NotFound, SessionNotYours and the like must look
    exactly like a missing page, never like a message on the page that asked."""
    if error.status == 404:
        raise Http404(error.message) from error


def page_error_raise(error: LanternError) -> None:
    """Raise Http404 / PermissionDenied for a 404 / 403 error; return for any other."""
    not_found_raise(error)
    if error.status == 403:
        raise PermissionDenied(error.message) from error


def error_message_for_page(error: LanternError) -> str:
    """The text a page shows for `error` (as a flash message or a notice); Http404 for a
    404 error (`not_found_raise`)."""
    not_found_raise(error)
    return error.message


def form_error_add(
    form: forms.Form, error: LanternError, *, default_field: str | None = None
) -> None:
    """Show `error` on the submitted `form`.

    Its message goes above the form (or next to `default_field`, the field a view knows
    the error is about when the error names none); each field it names that this form has
    gets its own messages next to it, unless a message only repeats the general one.
    Fields the form does not have are left out: the message already says what is wrong.
    """
    not_found_raise(error)
    named = [name for name in error.fields if name in form.fields]
    form.add_error(None if named else default_field, error.message)
    for name in named:
        for message in error.fields[name]:
            if str(message) != error.message:
                form.add_error(name, message)


__all__ = ["error_message_for_page", "form_error_add", "not_found_raise", "page_error_raise"]
