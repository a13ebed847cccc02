"""The headers of API v1 in the schema: the Idempotency-Key request header (with the one
definition of a valid key, which the server's check also uses) and the response headers
the shared code sends (Location, Idempotent-Replayed, Retry-After, WWW-Authenticate).

`base.api_autoschema.LanternAutoSchema` adds them to every operation they apply to, so no view
declares them by hand; a view declares only its own (the lesson's ETag).
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import OpenApiParameter

# The one definition of a valid Idempotency-Key: the server's check (tutoring/api/
# idempotency.py) and the schema's pattern and lengths are both built from it.
IDEMPOTENCY_KEY_CHARACTERS = "A-Za-z0-9._:-"
IDEMPOTENCY_KEY_MAX_LENGTH = 200
IDEMPOTENCY_KEY_PATTERN = rf"^[{IDEMPOTENCY_KEY_CHARACTERS}]{{1,{IDEMPOTENCY_KEY_MAX_LENGTH}}}$"
IDEMPOTENCY_KEY_RE = re.compile(IDEMPOTENCY_KEY_PATTERN)

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    type={
        "type": "string",
        "pattern": IDEMPOTENCY_KEY_PATTERN,
        "minLength": 1,
        "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH,
    },
    description=(
        "A unique value per intended operation (a UUID). Retrying with the same key and "
        "body replays the first response with `Idempotent-Replayed: true` and creates "
        "nothing new; the same key with another body is refused with 409 "
        "`idempotency_key_reused`. Kept 24 hours. 1-200 characters of A-Z a-z 0-9 . _ : -; "
        "anything else is refused with 400 `invalid_input`."
    ),
)


def _response_header(
    name: str, codes: list[int], description: str, *, required: bool = False, **schema: Any
) -> Any:
    return OpenApiParameter(
        name=name,
        location=OpenApiParameter.HEADER,
        type={"type": "string", **schema},
        description=description,
        required=required,
        response=codes,
    )


LOCATION_HEADER = _response_header(
    "Location",
    [201, 202],
    "The URL of the resource created (201) or to follow (202).",
    required=True,
)
REPLAYED_HEADER = _response_header(
    "Idempotent-Replayed",
    [200, 201, 202],
    "`true` when this is the replay of an earlier answer to the same Idempotency-Key.",
    enum=["true"],
)
RETRY_AFTER_HEADER = _response_header(
    "Retry-After", [429, 503], "Seconds to wait before trying again.", pattern=r"^[0-9]+$"
)
IDEMPOTENCY_RETRY_AFTER_HEADER = _response_header(
    "Retry-After",
    [409],
    "With `idempotency_in_progress`: seconds to wait before retrying with the same key.",
    pattern=r"^[0-9]+$",
)
WWW_AUTHENTICATE_HEADER = _response_header(
    "WWW-Authenticate", [401], "The authentication scheme to use (`Bearer`)."
)
