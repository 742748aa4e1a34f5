"""The service API's errors: one envelope, ``{"error": {"code", "message", "fields"?}}``, with
stable codes the gateway can branch on and messages a person can act on."""

from __future__ import annotations

from collections.abc import Mapping

from django.http import JsonResponse

# Codes, as the OpenAPI document lists them.
INVALID_TOKEN = "invalid_token"
WORKSPACE_NOT_FOUND = "workspace_not_found"
MEMBER_NOT_FOUND = "member_not_found"
MALFORMED_JSON = "malformed_json"
INVALID_REQUEST = "invalid_request"
UNKNOWN_FEATURE = "unknown_feature"
METHOD_NOT_ALLOWED = "method_not_allowed"
EVENT_CONFLICT = "event_conflict"
NOT_FOUND = "not_found"
RATE_LIMITED = "rate_limited"
DOCUMENT_NOT_FOUND = "document_not_found"
AGENT_NOT_FOUND = "agent_not_found"
AGENT_NOT_USABLE = "agent_not_usable"
CODES = (
    INVALID_TOKEN,
    WORKSPACE_NOT_FOUND,
    MEMBER_NOT_FOUND,
    MALFORMED_JSON,
    INVALID_REQUEST,
    UNKNOWN_FEATURE,
    METHOD_NOT_ALLOWED,
    EVENT_CONFLICT,
    NOT_FOUND,
    RATE_LIMITED,
    DOCUMENT_NOT_FOUND,
    AGENT_NOT_FOUND,
    AGENT_NOT_USABLE,
)

# Messages, so tests name them the same way.
TOKEN_MISSING = "Send the service token in the Authorization header: “Authorization: Bearer svc_…”."
TOKEN_BAD_SCHEME = "Use the Bearer scheme: “Authorization: Bearer svc_…”."
TOKEN_INVALID = (
    "The service token is not valid. Check that it was copied whole, or ask staff for a new one."
)
TOKEN_REVOKED = "This service token was revoked by staff. Use a current token."
WORKSPACE_UNKNOWN = "No workspace has the address “{slug}”."
MEMBER_UNKNOWN = (
    "“{member}” is not a member of the workspace “{slug}” (give the user id or the email address)."
)
JSON_MALFORMED = "The body is not valid JSON: {detail}."
BODY_NOT_OBJECT = "The body must be a JSON object."
BODY_TOO_LARGE = "The body is too large."
TOO_MANY_FIELDS = "The request has too many query parameters or fields."
REQUEST_INVALID = "The request could not be read."
PATH_UNKNOWN = (
    "The service API has no such path. The OpenAPI document, /api/service/openapi.json, "
    "lists those it has."
)
AUTH_RATE_LIMITED = (
    "Too many requests from this address had a missing or invalid service token: every "
    "request from it is refused for {seconds} more seconds (see Retry-After)."
)
FIELDS_INVALID = "Some fields are missing or invalid: see “fields”."
FEATURE_UNKNOWN = "Unknown feature “{key}”. Known features: {known}."
METHOD_NOT_ALLOWED_MESSAGE = "{method} is not allowed here; use {allowed}."
DOCUMENT_UNKNOWN = "The workspace “{slug}” has no document {document_id}."
AGENT_UNKNOWN = "The workspace “{slug}” has no agent {agent_id}."
EVENT_CONFLICTS = (
    "The event “{event_id}” was already reported with different values: an event id names one event. "
    "Send a new event id for a new event."
)


class ApiError(Exception):
    """An error the view answers with the JSON envelope and an HTTP status."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        reason_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})
        # A refusal's decision code (403 ``agent_not_usable``: why the member may not).
        self.reason_code = reason_code

    def response(self) -> JsonResponse:
        body: dict[str, object] = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        if self.reason_code is not None:
            body["reason_code"] = self.reason_code
        response = JsonResponse({"error": body}, status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response
