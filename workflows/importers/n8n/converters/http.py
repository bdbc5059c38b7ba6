"""HTTP Request, typeVersion 3+ (``sendQuery``/``sendHeaders``/``sendBody``) and 1-2 (``…ParametersUi``)."""

from __future__ import annotations

from typing import Any

from workflows.importers.n8n.base import Converted, Source, Unsupported, stringified

_MAX_HTTP_TIMEOUT = 300


def http_request(src: Source) -> Converted:
    legacy = src.version < 3
    method = src.param("requestMethod" if legacy else "method", default="GET")
    if not isinstance(method, str) or method.startswith("="):
        src.warn(f"the method {method!r} is not a fixed value; GET is used", at="method")
        method = "GET"
    url = src.template(src.param("url", default=""), at="url", into="url")
    if not url:
        raise Unsupported("has no URL")
    config: dict[str, Any] = {"method": method.upper(), "url": url}
    parts = _legacy_http_parts(src) if legacy else _http_parts(src)
    config.update({key: value for key, value in parts.items() if value not in (None, {})})
    if src.param("authentication", default="none") != "none":
        config["credential"] = src.credential_placeholder()
    config.update(_http_options(src, legacy))
    return Converted("http_request", config)


def _http_parts(src: Source) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    if src.param("sendQuery", default=False):
        parts["query"] = _pairs_or_json(src, "specifyQuery", "queryParameters", "jsonQuery", into="query")
    if src.param("sendHeaders", default=False):
        headers = _pairs_or_json(src, "specifyHeaders", "headerParameters", "jsonHeaders", into="headers")
        parts["headers"] = stringified(headers)
    if src.param("sendBody", default=False):
        body = _http_body(src)
        content_type = body.pop("content_type", None)
        if content_type and isinstance(parts.get("headers", {}), dict):
            parts["headers"] = {"Content-Type": content_type, **parts.get("headers", {})}
        parts.update(body)
    return parts


def _http_body(src: Source) -> dict[str, Any]:
    content_type = src.param("contentType", default="json")
    if content_type == "raw":
        body = src.template(src.param("body", default=""), at="body", into="body")
        return {"body": body, "body_type": "raw", "content_type": src.param("rawContentType")}
    if content_type == "binaryData":
        src.warn("sent a binary file as the body; files cannot be sent yet, so the request has no body", at="body")
        return {}
    body = _pairs_or_json(src, "specifyBody", "bodyParameters", "jsonBody", into="body")
    if content_type == "multipart-form-data":
        src.warn("sent a multipart form; it is sent URL-encoded (files cannot be sent yet)", at="contentType")
    return {"body": body, **({"body_type": "form"} if content_type != "json" else {})}


def _legacy_http_parts(src: Source) -> dict[str, Any]:
    """HTTP Request 1-2: ``…ParametersUi.parameter`` lists, or ``…ParametersJson`` with ``jsonParameters``."""
    parts: dict[str, Any] = {}
    for kind, into in (("query", "query"), ("header", "headers"), ("body", "body")):
        if src.param("jsonParameters", default=False):
            value = src.json_parameter(f"{kind}ParametersJson", into=into)
        else:
            value = src.pairs(src.param(f"{kind}ParametersUi", "parameter", default=[]), f"{kind}ParametersUi", into)
        parts[into] = stringified(value) if into == "headers" else value
    content_type = src.param("options", "bodyContentType", default="json")
    if content_type in ("form-urlencoded", "multipart-form-data") and parts["body"]:
        parts["body_type"] = "form"
    return parts


def _pairs_or_json(src: Source, specify: str, collection: str, json_name: str, *, into: str) -> Any:
    if src.param(specify, default="keypair") == "json":
        return src.json_parameter(json_name, into=into)
    return src.pairs(src.param(collection, "parameters", default=[]), f"{collection}.parameters", into)


def _http_options(src: Source, legacy: bool) -> dict[str, Any]:
    config: dict[str, Any] = {}
    timeout = src.param("options", "timeout")
    if isinstance(timeout, int | float) and timeout > 0:
        seconds = max(1, round(timeout / 1000))
        if seconds > _MAX_HTTP_TIMEOUT:
            src.warn(f"its timeout of {seconds} s is above the limit; {_MAX_HTTP_TIMEOUT} s is used", at="options")
        config["timeout_seconds"] = min(seconds, _MAX_HTTP_TIMEOUT)
    if legacy:
        follow = src.param("options", "followRedirect", default=True)
        response = {"format": src.param("responseFormat", default="json")}
    else:
        follow = src.param("options", "redirect", "redirect", "followRedirects", default=True)
        redirects = src.param("options", "redirect", "redirect", "maxRedirects")
        if follow and isinstance(redirects, int):
            config["max_redirects"] = max(0, min(redirects, 20))
        response = src.param("options", "response", "response", default={})
        if response.get("neverError"):
            config["fail_on_status"] = False
        response = {"format": response.get("responseFormat", "autodetect")}
    if follow is False:
        config["follow_redirects"] = False
    response_type = {"json": "json", "text": "text", "string": "text"}.get(response["format"])
    if response_type:
        config["response_type"] = response_type
    elif response["format"] == "file":
        src.warn("read the response as a file; it is read as text", at="options")
    return config
