"""Pagination of API v1: `?page=N&page_size=M`, the page's schema, and the one helper views
call (`paginate`)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class ApiPagination(PageNumberPagination):
    """`?page=N&page_size=M` (at most 100) -> {count, next, previous, next_page,
    previous_page, results}.

    Every paginated list has a total order (created time, then id) so pages never skip or
    repeat rows while new ones are added. `page` and `page_size` are validated (a value
    that is not a whole number in range is a 400 naming the parameter; DRF would quietly
    use the default). `next`/`previous` are relative to the request's own URL (a path and
    query), never built from the Host header, which is wrong behind a proxy; a generated
    client, which cannot GET an arbitrary URL, passes `next_page` back as `page`.
    """

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int:
        return _positive_query_int(request, self.page_size_query_param, self.page_size,
                                   maximum=self.max_page_size)  # fmt: skip

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        _positive_query_int(request, self.page_query_param, 1)
        return super().paginate_queryset(queryset, request, view)

    def _link(self, number: int | None) -> str | None:
        if number is None or self.request is None:
            return None
        query = self.request.query_params.copy()
        query[self.page_query_param] = str(number)
        return f"{self.request.path}?{query.urlencode()}"

    def get_paginated_response(self, data: Any) -> Response:
        page = self.page
        assert page is not None, "paginate_queryset() comes first"
        next_page = page.next_page_number() if page.has_next() else None
        previous_page = page.previous_page_number() if page.has_previous() else None
        return Response(
            {
                "count": page.paginator.count,
                "next": self._link(next_page),
                "previous": self._link(previous_page),
                "next_page": next_page,
                "previous_page": previous_page,
                "results": data,
            }
        )


def _positive_query_int(
    request: Request, name: str, default: int, *, maximum: int | None = None
) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1 or (maximum is not None and int(raw) > maximum):
        if maximum is None:
            message = _("Use a whole number from 1.")
        else:
            message = _("Use a whole number from 1 to %(maximum)s.") % {"maximum": maximum}
        raise exceptions.ValidationError({name: [message]})
    return int(raw)


_PAGINATED: dict[type[serializers.BaseSerializer], type[serializers.Serializer]] = {}


def paginated(serializer: type[serializers.BaseSerializer]) -> type[serializers.Serializer]:
    """The schema of one page of `serializer` items (component `Paginated<Name>List`)."""
    if serializer not in _PAGINATED:
        name = serializer.__name__.removesuffix("Serializer")
        _PAGINATED[serializer] = type(
            f"Paginated{name}ListSerializer",
            (serializers.Serializer,),
            {
                "__doc__": f"One page of {name} items, in a stable order.",
                "count": serializers.IntegerField(help_text="Items on all pages."),
                "next": serializers.CharField(
                    allow_null=True,
                    help_text="The next page as a path and query relative to this API's "
                    "origin, or null on the last.",
                ),
                "previous": serializers.CharField(
                    allow_null=True,
                    help_text="The previous page (a path and query), or null on the first.",
                ),
                "next_page": serializers.IntegerField(
                    allow_null=True,
                    min_value=2,
                    help_text="Pass as `page` to get the next page; null on the last.",
                ),
                "previous_page": serializers.IntegerField(
                    allow_null=True,
                    min_value=1,
                    help_text="Pass as `page` to get the previous page; null on the first.",
                ),
                "results": serializer(many=True),
            },
        )
    return _PAGINATED[serializer]


PAGE_PARAMETERS = [
    OpenApiParameter(
        "page",
        {"type": "integer", "minimum": 1},
        description="Page number, from 1 (`next_page` of the previous answer). A page past "
        "the last is a 404.",
    ),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": ApiPagination.max_page_size},
        description="Items per page (default 20, at most 100).",
    ),
]


def paginate(view: APIView, request: Request, queryset: Any, serializer: type) -> Response:
    """One page of `queryset` rendered with `serializer` (the view's paginator)."""
    paginator = ApiPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)


__all__ = ["PAGE_PARAMETERS", "ApiPagination", "paginate", "paginated"]
