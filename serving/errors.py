"""The API's 4xx answers as an exception the gateway, the decoder and the endpoints raise."""

from __future__ import annotations

from typing import Any


class RequestRejected(Exception):
    """A request the API answers with a 4xx; ``body`` is the JSON error."""

    def __init__(self, status: int, error: str, field: str | None = None,
                 errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.body: dict[str, Any] = {"error": error}
        if field is not None:
            self.body["field"] = field
        if errors:
            self.body["errors"] = errors


def error_body(error: str, field: str | None = None) -> dict[str, Any]:
    return {"error": error} if field is None else {"error": error, "field": field}


def too_large(max_body_bytes: int) -> RequestRejected:
    return RequestRejected(
        413, f"The body is larger than {max_body_bytes:,} bytes: split the batch."
    )
