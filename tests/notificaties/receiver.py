#!/usr/bin/env python3
"""Test receiver for the VNG Notificaties API, as Open Notificaties implements it.

It stands in for a municipality's Open Notificaties in Schakel's tests. Every
API request is validated against the API's own OpenAPI document
(`openapi.yaml` next to this file, copied unchanged from open-zaak/open-notificaties,
see SOURCE.md) with openapi-core, and the bearer JWT is verified by hand
(HS256, ZGW-style claims). A request that fails is answered 400 with a
ValidatieFout problem body naming the errors. The receiver also validates its
own responses against the document, so this test double cannot drift from it.

Besides the document it applies the checks Open Notificaties makes on top of
it (errors with source "server"; --no-server-rules turns off all but the
unique kanaal naam): the kanaal of a notificatie must exist, its kenmerken
keys must be a subset or superset of the kanaal's filters, kenmerken must be
present, aanmaakdatum must not be in the future, kanaal/resource/actie must
not be blank, GET /kanaal takes no query parameter but naam. Note: JWT
failures are answered 400 here like every other failure; the real server
answers 403.

API (under the document's server base path, `/api/v1`):
  GET  /kanaal[?naam=...]       list of kanalen registered so far
  POST /kanaal                  register a kanaal (201; 400 if the naam exists)
  GET  /kanaal/{uuid}           one kanaal
  POST /notificaties            publish a notificatie (201, echoes the message)

Test control (not part of the API, not validated, not recorded):
  GET  /_test/requests          every API request received, with its errors
  POST /_test/fail?status=503&times=N
                                answer the next N /notificaties calls with that status

Run:  receiver.py --client-id ID --secret SECRET [--port 0]
It prints exactly one line `listening on <port>` to stdout once it accepts
connections; everything else goes to stderr.
"""

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import re
import signal
import sys
import threading
import uuid
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import (
    OperationNotFound,
    PathError,
    PathNotFound,
    ServerNotFound,
)
from openapi_core.validation.request.exceptions import (
    InvalidParameter,
    MissingRequiredParameter,
    MissingRequiredRequestBody,
    ParameterValidationError,
    RequestBodyValidationError,
    SecurityValidationError,
)
from openapi_core.validation.request.validators import (
    V30RequestBodyValidator,
    V30RequestParametersValidator,
)
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_PATH = Path(__file__).resolve().parent / "openapi.yaml"
MAX_BODY = 10 * 1024 * 1024

# Request headers copied into the record of each request.
HEADERS_OF_INTEREST = (
    "Host",
    "Content-Type",
    "Content-Length",
    "Authorization",
    "Accept",
    "Accept-Crs",
    "Content-Crs",
    "Api-Version",
    "User-Agent",
    "Idempotency-Key",
    "X-Request-Id",
    "Traceparent",
    "Tracestate",
)

# jsonschema keyword -> error code in the style of Open Notificaties (DRF codes).
KEYWORD_CODES = {
    "required": "required",
    "maxLength": "max_length",
    "minLength": "min_length",
    "maxItems": "max_length",
    "minItems": "min_length",
    "enum": "invalid_choice",
    "format": "invalid",
    "type": "invalid",
    "pattern": "invalid",
    "additionalProperties": "invalid",
}

REQUIRED_RE = re.compile(r"^'(?P<name>[^']+)' is a required property")


def log(msg):
    print(f"receiver: {msg}", file=sys.stderr, flush=True)


def now_iso():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def error(source, name, code, reason, keyword=None):
    """One validation error. `source` is where the rule comes from:
    openapi (the document), jwt (the ZGW token rules), server (Open
    Notificaties' own checks beyond the document), receiver (this double)."""
    entry = {"source": source, "name": name, "code": code, "reason": reason}
    if keyword:
        entry["keyword"] = keyword
    return entry


# --------------------------------------------------------------------------
# openapi-core request/response adapters (they implement its protocols)


class ApiRequest:
    def __init__(self, host_url, method, path, query_pairs, header_pairs, body):
        self.host_url = host_url
        self.method = method.lower()
        self.path = path
        self.body = body
        headers = Headers(header_pairs)
        self.content_type = (headers.get("Content-Type") or "").lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(query_pairs),
            header=headers,
            cookie=ImmutableMultiDict(),
        )


class ApiResponse:
    def __init__(self, status_code, headers, body):
        self.status_code = status_code
        self.headers = Headers(list(headers.items()))
        self.content_type = (headers.get("Content-Type") or "").lower()
        self.data = body


# --------------------------------------------------------------------------
# Error flattening


def _schema_errors(exc):
    """The jsonschema errors behind an openapi-core error, if any."""
    cause = exc.__cause__
    while cause is not None:
        errs = getattr(cause, "schema_errors", None)
        if errs:
            return list(errs)
        cause = cause.__cause__
    return []


def _json_path(err):
    return ".".join(str(p) for p in err.absolute_path)


def _from_schema_error(err, base_name=None):
    keyword = err.validator
    name = _json_path(err)
    if keyword == "required":
        m = REQUIRED_RE.match(err.message)
        if m:
            name = f"{name}.{m.group('name')}" if name else m.group("name")
    if base_name:
        name = f"{base_name}.{name}" if name else base_name
    return error(
        "openapi",
        name or "body",
        KEYWORD_CODES.get(keyword, str(keyword)),
        err.message,
        keyword=keyword,
    )


def flatten_request_error(exc, headers):
    """Turn one openapi-core request error into our error entries."""
    if isinstance(exc, SecurityValidationError):
        reason = str(exc)
        if "Authorization" not in headers:
            reason += " (no Authorization header)"
        else:
            reason += " (expected `Authorization: Bearer <jwt>`)"
        return [error("openapi", "Authorization", "not_authenticated", reason)]
    if isinstance(exc, MissingRequiredParameter):
        return [error("openapi", exc.name, "required", str(exc), keyword="required")]
    if isinstance(exc, ParameterValidationError):
        schema_errs = _schema_errors(exc)
        if schema_errs:
            return [
                {**_from_schema_error(e, exc.name), "reason": f"{exc}: {e.message}"}
                for e in schema_errs
            ]
        code = "invalid" if isinstance(exc, InvalidParameter) else "parameter"
        return [error("openapi", exc.name, code, _with_cause(exc))]
    if isinstance(exc, MissingRequiredRequestBody):
        return [error("openapi", "body", "required", str(exc), keyword="required")]
    if isinstance(exc, RequestBodyValidationError):
        schema_errs = _schema_errors(exc)
        if schema_errs:
            return [_from_schema_error(e) for e in schema_errs]
        return [error("openapi", "body", "parse_error", _with_cause(exc))]
    return [error("openapi", "request", type(exc).__name__, _with_cause(exc))]


def _with_cause(exc):
    text = str(exc)
    if exc.__cause__ is not None and str(exc.__cause__) not in text:
        text += f": {exc.__cause__}"
    return text


def flatten_response_error(exc):
    schema_errs = _schema_errors(exc)
    if schema_errs:
        kind = type(exc).__name__
        return [_short(f"{kind}: {_json_path(e) or '<root>'}: {e.message}") for e in schema_errs]
    return [_short(_with_cause(exc))]


def _short(text, limit=400):
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------
# ZGW JWT (HS256) verification, by hand


def _b64url_decode(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def verify_jwt(token, client_id, secret):
    """Return (errors, decoded) for a ZGW-style JWT."""
    errors = []

    def fail(code, reason):
        errors.append(error("jwt", "Authorization", code, reason))

    parts = token.split(".")
    if len(parts) != 3:
        fail("jwt-malformed", f"a JWT has 3 dot-separated parts, got {len(parts)}")
        return errors, None
    try:
        header = json.loads(_b64url_decode(parts[0]))
        payload = json.loads(_b64url_decode(parts[1]))
        signature = _b64url_decode(parts[2])
    except (binascii.Error, ValueError) as exc:
        fail("jwt-malformed", f"JWT is not base64url-encoded JSON: {exc}")
        return errors, None
    decoded = {"header": header, "payload": payload}
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        alg = header.get("alg") if isinstance(header, dict) else None
        fail("jwt-alg", f"JWT header alg must be HS256, got {alg!r}")
    expected = hmac.new(
        secret.encode(), f"{parts[0]}.{parts[1]}".encode("ascii"), hashlib.sha256
    ).digest()
    if not hmac.compare_digest(expected, signature):
        fail("jwt-signature", "JWT signature does not verify (HMAC-SHA256 with the shared secret)")
    if not isinstance(payload, dict):
        fail("jwt-payload", "JWT payload is not a JSON object")
        return errors, decoded
    if payload.get("iss") != client_id:
        fail("jwt-iss", f"iss must be the client id {client_id!r}, got {payload.get('iss')!r}")
    if payload.get("client_id") != client_id:
        fail(
            "jwt-client-id",
            f"client_id must be {client_id!r}, got {payload.get('client_id')!r}",
        )
    iat = payload.get("iat")
    if iat is None:
        fail("jwt-iat", "iat (UNIX timestamp) is missing")
    elif isinstance(iat, bool) or not isinstance(iat, (int, float)):
        fail("jwt-iat", f"iat must be a UNIX timestamp (number), got {iat!r}")
    # The document lists user_id and user_representation in "De vereiste payload".
    for claim in ("user_id", "user_representation"):
        if not isinstance(payload.get(claim), str):
            fail(f"jwt-{claim.replace('_', '-')}", f"{claim} must be present as a string")
    return errors, decoded


# --------------------------------------------------------------------------
# Open Notificaties' checks beyond the document (MessageSerializer.validate,
# NotificatieSerializer field options, UntilNowValidator)


def _snake(key):
    # djangorestframework-camel-case turns incoming keys, kenmerken keys
    # included, into snake_case before Open Notificaties compares them.
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()


def server_rules_notificatie(msg, kanalen):
    errs = []
    if not isinstance(msg, dict):
        return errs
    for field in ("kanaal", "resource", "actie"):
        value = msg.get(field)
        if isinstance(value, str) and not value.strip():
            errs.append(error("server", field, "blank", "Dit veld mag niet leeg zijn."))
    kanaal = None
    if isinstance(msg.get("kanaal"), str):
        kanaal = next((k for k in kanalen if k["naam"] == msg["kanaal"]), None)
        if kanaal is None:
            errs.append(
                error("server", "kanaal", "message_kanaal", "Kanaal met deze naam bestaat niet.")
            )
    if "kenmerken" not in msg:
        errs.append(
            error(
                "server",
                "kenmerken",
                "required",
                "kenmerken is optional in the document, but Open Notificaties' "
                "MessageSerializer.validate reads it unconditionally: without it "
                "the real server fails (HTTP 500). Always send kenmerken.",
            )
        )
    elif isinstance(msg["kenmerken"], dict) and kanaal is not None:
        names = {_snake(k) for k in msg["kenmerken"]}
        filters = set(kanaal.get("filters") or [])
        if not (filters <= names or filters >= names):
            errs.append(
                error(
                    "server",
                    "kenmerken",
                    "kenmerken_inconsistent",
                    "Kenmerken aren't consistent with kanaal filters "
                    f"(kenmerken {sorted(names)}, kanaal filters {sorted(filters)}: "
                    "one must be a subset of the other)",
                )
            )
    stamp = msg.get("aanmaakdatum")
    if isinstance(stamp, str):
        try:
            when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            when = None  # the document's date-time format check reports it
        if when is not None and when.tzinfo is not None and when > datetime.now(timezone.utc):
            errs.append(
                error(
                    "server",
                    "aanmaakdatum",
                    "future_not_allowed",
                    "Ensure this value is not in the future.",
                )
            )
    return errs


# --------------------------------------------------------------------------
# State


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.kanalen = []  # dicts as in the Kanaal schema, plus "uuid"
        self.requests = []
        self.fail_status = None
        self.fail_remaining = 0


# --------------------------------------------------------------------------
# HTTP


class Receiver:
    def __init__(self, args, origin):
        self.args = args
        self.origin = origin  # e.g. http://127.0.0.1:41234
        self.state = State()
        # openapi-core only deserialises application/json out of the box; the
        # document's error responses are application/problem+json (JSON too).
        media = {"application/problem+json": json.loads}
        config = Config(server_base_url=origin + "/", extra_media_type_deserializers=media)
        self.api = OpenAPI.from_file_path(str(args.spec), config=config)
        common = {"base_url": origin + "/", "extra_media_type_deserializers": media}
        self.params_validator = V30RequestParametersValidator(self.api.spec, **common)
        self.body_validator = V30RequestBodyValidator(self.api.spec, **common)
        servers = self.api.spec.get("servers") or []
        base = urlsplit(servers[0]["url"]).path if servers else ""
        self.base_path = base.rstrip("/")  # "/api/v1" for this document
        self.api_version = self.api.spec["info"]["version"]


def make_handler(rx):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "schakel-notificaties-receiver"

        def log_message(self, fmt, *args):
            if rx.args.verbose:
                log(fmt % args)

        # -- plumbing -------------------------------------------------------

        def _read_body(self):
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        break
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                return b"".join(chunks)
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                raise ValueError("request body too large")
            return self.rfile.read(length) if length else b""

        def _send(self, status, body_obj, content_type="application/json", extra=None):
            data = b"" if body_obj is None else json.dumps(body_obj).encode()
            headers = {"Content-Type": content_type, "API-version": rx.api_version}
            headers.update(extra or {})
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            return status, headers, data

        def _url_root(self):
            host = self.headers.get("Host")
            return f"http://{host}" if host else rx.origin

        def _problem(self, status, code, title, detail, invalid_params=None):
            body = {
                "type": f"{self._url_root()}/ref/fouten/{code}/",
                "code": code,
                "title": title,
                "status": status,
                "detail": detail,
                "instance": f"urn:uuid:{uuid.uuid4()}",
            }
            if invalid_params is not None:
                body["invalidParams"] = invalid_params
            return body

        def do_GET(self):
            self._handle()

        def do_POST(self):
            self._handle()

        def do_PUT(self):
            self._handle()

        def do_PATCH(self):
            self._handle()

        def do_DELETE(self):
            self._handle()

        def do_HEAD(self):
            self._handle()

        # -- dispatch ---------------------------------------------------------

        def _handle(self):
            split = urlsplit(self.path)
            path = split.path
            query_pairs = parse_qsl(split.query, keep_blank_values=True)
            try:
                body = self._read_body()
            except ValueError as exc:
                self._send(413, {"detail": str(exc)})
                return
            if path.startswith("/_test/"):
                self._control(path, dict(query_pairs))
                return
            self._api(path, query_pairs, body)

        def _control(self, path, query):
            if path == "/_test/requests" and self.command == "GET":
                with rx.state.lock:
                    records = json.loads(json.dumps(rx.state.requests))
                self._send(200, records)
            elif path == "/_test/fail" and self.command == "POST":
                try:
                    status = int(query.get("status", "503"))
                    times = int(query.get("times", "1"))
                    if not 400 <= status <= 599 or times < 0:
                        raise ValueError
                except ValueError:
                    self._send(400, {"detail": "status must be 400..599, times >= 0"})
                    return
                with rx.state.lock:
                    rx.state.fail_status = status
                    rx.state.fail_remaining = times
                self._send(200, {"status": status, "times": times})
            else:
                self._send(404, {"detail": f"no test endpoint {self.command} {path}"})

        def _api(self, path, query_pairs, body):
            header_pairs = list(self.headers.items())
            headers = Headers(header_pairs)
            request = ApiRequest(
                rx.origin,
                self.command,
                path,
                query_pairs,
                header_pairs,
                body if body or self.command in ("POST", "PUT", "PATCH") else None,
            )
            record = {
                "seq": None,
                "time": now_iso(),
                "method": self.command,
                "path": path,
                "query": _query_dict(query_pairs),
                "headers": {h: headers[h] for h in HEADERS_OF_INTEREST if h in headers},
                "body": _body_for_record(body),
                "operation": None,
                "jwt": None,
                "errors": [],
                "status": None,
                "response_body": None,
                "response_errors": [],
                "injected": False,
            }

            errors, operation, route_status = self._validate_request(request, headers, record)
            record["operation"] = operation
            if route_status is not None:
                # Unknown path or method: answered without response validation,
                # since the document has no response for it.
                status, code, title = route_status
                resp = self._send(
                    status,
                    self._problem(status, code, title, "; ".join(e["reason"] for e in errors)),
                    "application/problem+json",
                )
                self._finish(record, errors, request, resp, validate_response=False)
                return

            # Open Notificaties' own checks, only on a body the document accepts.
            body_ok = not any(
                e["source"] == "openapi" and e["name"] not in ("Authorization", "Content-Type")
                for e in errors
            )
            msg = _json_or_none(body)
            if operation == "notificaties_create" and body_ok and not rx.args.no_server_rules:
                with rx.state.lock:
                    kanalen = list(rx.state.kanalen)
                errors += server_rules_notificatie(msg, kanalen)
            if operation == "kanaal_list" and not rx.args.no_server_rules:
                unknown = sorted({k for k, _ in query_pairs} - {"naam"})
                if unknown:
                    errors.append(
                        error(
                            "server",
                            "nonFieldErrors",
                            "unknown-parameters",
                            f"Onbekende query parameters: {', '.join(unknown)}",
                        )
                    )
            if operation == "kanaal_create" and body_ok and isinstance(msg, dict):
                with rx.state.lock:
                    taken = any(k["naam"] == msg.get("naam") for k in rx.state.kanalen)
                if taken:
                    errors.append(
                        error("server", "naam", "unique", "kanaal met deze naam bestaat al.")
                    )

            # Failure injection for /notificaties (retries).
            if operation == "notificaties_create":
                with rx.state.lock:
                    injected = rx.state.fail_remaining > 0
                    if injected:
                        rx.state.fail_remaining -= 1
                        status = rx.state.fail_status
                if injected:
                    record["injected"] = True
                    phrase = _phrase(status)
                    resp = self._send(
                        status,
                        self._problem(status, "injected", phrase, f"injected failure: {status}"),
                        "application/problem+json",
                    )
                    documented = str(status) in _responses_of(rx, "/notificaties", "post")
                    self._finish(record, errors, request, resp, validate_response=documented)
                    return

            if errors:
                detail = "; ".join(f"{e['name']}: {e['reason']}" for e in errors)
                problem = self._problem(
                    400,
                    "invalid",
                    "Invalid input.",
                    detail,
                    [{k: e[k] for k in ("name", "code", "reason")} for e in errors],
                )
                resp = self._send(400, problem, "application/problem+json")
                self._finish(record, errors, request, resp)
                return

            resp = self._perform(operation, path, query_pairs, msg)
            self._finish(record, errors, request, resp)

        def _validate_request(self, request, headers, record):
            """Validate against the document; returns (errors, operationId, route_status)."""
            errors = []
            exc_list = list(rx.api.iter_request_errors(request))
            for exc in exc_list:
                if isinstance(exc, PathError):
                    if isinstance(exc, OperationNotFound):
                        route = (405, "method_not_allowed", "Method not allowed.")
                    else:
                        route = (404, "not_found", "Not found.")
                    reason = str(exc)
                    if isinstance(exc, (ServerNotFound, PathNotFound)):
                        reason += f" (the API lives under {rx.base_path}/)"
                    errors.append(error("openapi", "path", route[1], reason))
                    return errors, None, route
            operation = self._operation_id(request.path, request.method)
            security_failed = any(isinstance(e, SecurityValidationError) for e in exc_list)
            for exc in exc_list:
                errors += flatten_request_error(exc, headers)
            if security_failed:
                # openapi-core stops after a security error; still report the
                # parameter and body errors so one run shows everything.
                for validator in (rx.params_validator, rx.body_validator):
                    for exc in validator.iter_errors(request):
                        errors += flatten_request_error(exc, headers)
            if (
                request.body
                and request.content_type.split(";")[0].strip() != "application/json"
                and _json_or_none(request.body) is not None
            ):
                # A JSON body sent with a missing or wrong Content-Type (already
                # reported above): also check it against the schema it is meant for.
                as_json = ApiRequest(
                    request.host_url,
                    request.method,
                    request.path,
                    [],
                    [("Content-Type", "application/json")],
                    request.body,
                )
                for exc in rx.body_validator.iter_errors(as_json):
                    errors += flatten_request_error(exc, headers)
            auth = headers.get("Authorization") or ""
            if auth[:7].lower() == "bearer ":
                jwt_errors, decoded = verify_jwt(auth[7:].strip(), rx.args.client_id, rx.args.secret)
                record["jwt"] = decoded
                errors += jwt_errors
            if operation not in IMPLEMENTED:
                errors.append(
                    error(
                        "receiver",
                        "path",
                        "not-implemented",
                        f"operation {operation} is in the document but not in this test receiver",
                    )
                )
                return errors, operation, (501, "not_implemented", "Not implemented.")
            return errors, operation, None

        def _operation_id(self, path, method):
            rel = path[len(rx.base_path):] if path.startswith(rx.base_path) else path
            for template, item in rx.api.spec["paths"].items():
                pattern = "^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$"
                if re.match(pattern, rel) and method in item:
                    return item[method]["operationId"]
            return None

        def _perform(self, operation, path, query_pairs, msg):
            root = self._url_root() + rx.base_path
            if operation == "kanaal_list":
                naam = dict(query_pairs).get("naam")
                with rx.state.lock:
                    found = [_public(k) for k in rx.state.kanalen if naam is None or k["naam"] == naam]
                return self._send(200, found)
            if operation == "kanaal_create":
                kid = str(uuid.uuid4())
                kanaal = {"url": f"{root}/kanaal/{kid}", "naam": msg["naam"]}
                # Open Notificaties answers documentatieLink "" when none was
                # given; that is not a valid `uri`, so this double omits it.
                if msg.get("documentatieLink"):
                    kanaal["documentatieLink"] = msg["documentatieLink"]
                kanaal["filters"] = list(msg.get("filters") or [])
                with rx.state.lock:
                    rx.state.kanalen.append({**kanaal, "uuid": kid})
                return self._send(201, kanaal, extra={"Location": kanaal["url"]})
            if operation == "kanaal_read":
                kid = path.rstrip("/").rsplit("/", 1)[-1]
                with rx.state.lock:
                    found = next((k for k in rx.state.kanalen if k["uuid"] == kid), None)
                if found is None:
                    return self._send(
                        404,
                        self._problem(404, "not_found", "Niet gevonden.", "Niet gevonden."),
                        "application/problem+json",
                    )
                return self._send(200, _public(found))
            if operation == "notificaties_create":
                return self._send(201, msg)
            raise AssertionError(operation)

        def _finish(self, record, errors, request, resp, validate_response=True):
            status, headers, data = resp
            record["errors"] = errors
            record["status"] = status
            record["response_body"] = _body_for_record(data)
            if validate_response:
                response = ApiResponse(status, headers, data)
                for exc in rx.api.iter_response_errors(request, response):
                    record["response_errors"] += flatten_response_error(exc)
            with rx.state.lock:
                record["seq"] = len(rx.state.requests) + 1
                rx.state.requests.append(record)
            if errors:
                log(
                    f"#{record['seq']} {record['method']} {record['path']} -> {status}: "
                    + "; ".join(f"[{e['source']}] {e['name']}: {e['reason']}" for e in errors)
                )
            for mismatch in record["response_errors"]:
                log(f"#{record['seq']} RESPONSE DOES NOT MATCH THE DOCUMENT: {mismatch}")

    return Handler


IMPLEMENTED = {"kanaal_list", "kanaal_create", "kanaal_read", "notificaties_create"}


def _public(kanaal):
    return {k: v for k, v in kanaal.items() if k != "uuid"}


def _responses_of(rx, path, method):
    return set(rx.api.spec["paths"][path][method]["responses"].keys())


def _phrase(status):
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _query_dict(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            out[k] = out[k] if isinstance(out[k], list) else [out[k]]
            out[k].append(v)
        else:
            out[k] = v
    return out


def _json_or_none(data):
    try:
        return json.loads(data) if data else None
    except ValueError:
        return None


def _body_for_record(data):
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return data.decode("utf-8", "replace")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--client-id", required=True, help="expected iss and client_id of the JWT")
    parser.add_argument("--secret", required=True, help="HS256 secret of the JWT")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--spec", type=Path, default=SPEC_PATH, help="OpenAPI document")
    parser.add_argument(
        "--no-server-rules",
        action="store_true",
        help="check only the document and the JWT, not Open Notificaties' extra checks",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args()

    server = ThreadingHTTPServer((args.host, args.port), lambda *a: None)
    port = server.server_address[1]
    rx = Receiver(args, f"http://{args.host}:{port}")
    server.RequestHandlerClass = make_handler(rx)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"listening on {port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
