"""What every API operation shares, added to the OpenAPI schema in one place (a drf-spectacular
postprocessing hook, SPECTACULAR_SETTINGS), so generated clients know every status code and header
the API answers with: the 503 of an outage (config/outages.py), the rate-limit headers of the
throttled endpoints (throttling.py, errors.py) and the replay header of idempotent POSTs
(views.Idempotent)."""

HEADER = {"schema": {"type": "string"}}
RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": "Requests allowed in the current window.",
    "RateLimit-Remaining": "Requests left in the current window.",
    "RateLimit-Reset": "Seconds until the window ends.",
}
RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer"},
        "description": "Seconds to wait before trying again.",
    }
}
REPLAYED = {
    "Idempotent-Replayed": {
        **HEADER,
        "description": '"true" when this is the stored answer to an earlier request with the '
        "same Idempotency-Key (nothing was done again).",
    }
}
OUTAGE = {
    "description": "The database or the message broker is briefly unreachable: nothing was "
    "done; try again after Retry-After seconds (code service_unavailable).",
    "headers": RETRY_AFTER,
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def declare_shared_answers(result, generator, request, public):
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/") or path == "/api/v1/schema/":
            continue
        for operation in operations.values():
            responses = operation["responses"]
            throttled = "429" in responses
            idempotent = any(
                p["in"] == "header" and p["name"] == "Idempotency-Key"
                for p in operation.get("parameters", [])
            )
            for code, response in responses.items():
                headers = response.setdefault("headers", {})
                if throttled:
                    headers.update(
                        {name: {**HEADER, "description": text}
                         for name, text in RATE_LIMIT_HEADERS.items()}
                    )  # fmt: skip
                if code == "429":
                    headers.update(RETRY_AFTER)
                if idempotent and code.startswith("2"):
                    headers.update(REPLAYED)
                if not headers:
                    del response["headers"]
            responses.setdefault("503", OUTAGE)
    return result
