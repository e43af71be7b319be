"""What every platform sandbox shares: state kept under a lock (and, optionally, in a file),
bearer-token checks, fault injection, a request log, the admin endpoints under ``/_sandbox``,
and a threaded HTTP server with TCP_NODELAY.

A platform module (``sandbox/ittv.py``, ``sandbox/skeelo.py``) describes its records and error
format with a ``Platform`` and adds its own API routes to the app ``build_app`` returns.

Admin endpoints (all but ``health`` need the same ``Authorization: Bearer <token>``):

``GET /_sandbox/health``
    ``{"ok": true, "platform": ...}`` — readiness probe.
``POST /_sandbox/faults``  body ``{"kind", "count"?, "status"?, "delay"?, "retry_after"?, "match"?}``
    Queue a fault for the next ``count`` (default 1) API requests matching ``match`` (optional,
    ``"METHOD /path-prefix"`` or ``"/path-prefix"``). Kinds:
    - ``error``: answer ``status`` (default 500) in the platform's error format; nothing changes.
      With ``"echo": true`` the message quotes the request body back as it came (JSON, so
      accents as ``\\u00e3`` and quotes as ``\\"``), as some platforms do; with ``"echo":
      ["name", "zipcode", ...]`` it quotes just those fields of the JSON body, JSON-encoded the
      same way (so a test can put them first, before the panel cuts a long message).
    - ``rate_limit``: answer 429 with ``Retry-After: <retry_after>`` (default 1 s); nothing changes.
    - ``timeout``: hold the request ``delay`` s (default 15), then close the connection without
      answering; nothing changes.
    - ``slow``: wait ``delay`` s (default 2), then handle the request normally.
    - ``drop``: handle the request (the change is made), then reset the connection instead of
      answering: the client sees a lost response.
    - ``ignore``: answer as if the request was applied (its usual 2xx and body), but change
      nothing: a platform that accepted a change without applying it (reconciliation finds it).
``GET /_sandbox/faults`` the faults still queued; ``DELETE /_sandbox/faults`` clears them.
``PUT /_sandbox/latency``  body ``{"ms": 20}`` — added to every API request from now on.
``GET /_sandbox/requests`` the API requests seen (method, path, query, status, fault, at), oldest
    first; ``DELETE /_sandbox/requests`` clears the log.
``POST /_sandbox/reset`` forget every subscriber, fault, logged request and latency; the
    catalogue goes back to the demo one.
``GET /_sandbox/subscribers`` every stored record, login data included (ITTV's password too).
``PATCH /_sandbox/subscribers/<key>`` change a record out of band (any of its fields), as
    someone editing at the platform would; ``DELETE`` removes it.
``POST /_sandbox/products`` add a product to the catalogue (the platform's own shape).
"""

from __future__ import annotations

import argparse
import copy
import hmac
import itertools
import json
import logging
import os
import re
import signal
import socket
import struct
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from validate_docbr import CNPJ, CPF
from werkzeug.exceptions import HTTPException
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

FAULT_KINDS = ("error", "rate_limit", "timeout", "slow", "drop", "ignore")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CPF, _CNPJ = CPF(), CNPJ()


class ApiError(Exception):
    """Answered in the platform's own error format."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def valid_document(digits: object) -> bool:
    """A CPF (11 digits) or CNPJ (14 digits) with right check digits."""
    if not isinstance(digits, str) or not digits.isdigit():
        return False
    if len(digits) == 11:
        return _CPF.validate(digits)
    return len(digits) == 14 and _CNPJ.validate(digits)


def valid_email(value: object) -> bool:
    return isinstance(value, str) and len(value) <= 254 and bool(EMAIL.match(value))


def json_object() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "O corpo da requisição deve ser um objeto JSON.")
    return body


@dataclass
class Platform:
    """What differs between sandboxes, besides their API routes."""

    name: str  # "ittv"
    label: str  # "ITTV"
    record_key: str  # field that identifies a stored subscriber: "_id", "external_id"
    product_key: str  # field that identifies a product: "_id", "code"
    demo_products: list[dict[str, str]]
    # (status, code, message, extra) -> JSON body in the platform's error format
    error_body: Callable[[int, str, str, dict[str, Any]], dict[str, Any]]
    # Who may call the API (not /_sandbox): given the Authorization header, whether to let the
    # request through. None: the sandbox's own token, as a bearer (a fixed-token platform). A
    # platform that issues its own tokens (OAuth) checks those, and leaves its token endpoints open.
    api_authorized: Callable[[str], bool] | None = None


@dataclass
class Store:
    """The platform's data. Every read-modify-write holds ``lock``; with a path, each change is
    written to disk (whole, then renamed) so the demo survives a restart."""

    products: list[dict[str, str]]
    path: Path | None = None
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def load(self) -> None:
        if self.path and self.path.exists():
            saved = json.loads(self.path.read_text())
            self.records, self.products = saved["records"], saved["products"]

    def save(self) -> None:
        if not self.path:
            return
        with self.lock:
            data = json.dumps({"records": self.records, "products": self.products}, ensure_ascii=False, indent=1)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
            with os.fdopen(fd, "w") as fh:
                fh.write(data)
            os.replace(temporary, self.path)


class Faults:
    """Faults queued through the admin endpoint, consumed by matching API requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    def add(self, spec: dict[str, Any]) -> dict[str, Any]:
        kind = spec.get("kind")
        if kind not in FAULT_KINDS:
            raise ApiError(422, "invalid_fault", f"kind deve ser um de: {', '.join(FAULT_KINDS)}")
        try:
            fault = {
                "kind": kind,
                "remaining": int(spec.get("count", 1)),
                "status": int(spec.get("status", 500)),
                "delay": float(spec.get("delay", 15 if kind == "timeout" else 2)),
                "retry_after": int(spec.get("retry_after", 1)),
                "match": str(spec.get("match") or ""),
            }
        except (TypeError, ValueError):
            raise ApiError(422, "invalid_fault", "count, status, delay e retry_after devem ser números.") from None
        echo = spec.get("echo", False)
        if isinstance(echo, list) and all(isinstance(name, str) for name in echo):
            fault["echo"] = echo
        else:
            fault["echo"] = bool(echo)
        if (
            fault["remaining"] < 1
            or not 400 <= fault["status"] <= 599
            or fault["delay"] < 0
            or fault["retry_after"] < 0
        ):
            raise ApiError(
                422, "invalid_fault", "count deve ser ≥ 1, status um código 4xx/5xx e delay/retry_after ≥ 0."
            )
        with self._lock:
            fault["id"] = next(self._ids)
            self._queued.append(fault)
        return fault

    def take(self, method: str, path: str) -> dict[str, Any] | None:
        with self._lock:
            for fault in self._queued:
                if _matches(fault["match"], method, path):
                    fault["remaining"] -= 1
                    if fault["remaining"] == 0:
                        self._queued.remove(fault)
                    return dict(fault)
        return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(fault) for fault in self._queued]

    def clear(self) -> None:
        with self._lock:
            self._queued.clear()


def _matches(match: str, method: str, path: str) -> bool:
    if not match:
        return True
    wanted_method, _, prefix = match.rpartition(" ")
    return (not wanted_method or wanted_method.upper() == method) and path.startswith(prefix)


@dataclass
class SandboxState:
    platform: Platform
    token: str
    store: Store
    faults: Faults = field(default_factory=Faults)
    requests: deque = field(default_factory=lambda: deque(maxlen=5000))
    latency_ms: float = 0.0


def state() -> SandboxState:
    return current_app.extensions["sandbox"]


def build_app(platform: Platform, token: str, *, state_file: str | None = None, latency_ms: float = 0) -> Flask:
    if not token:
        raise ValueError("a sandbox needs a token")
    store = Store(products=[dict(p) for p in platform.demo_products], path=Path(state_file) if state_file else None)
    store.load()
    app = Flask(f"sandbox.{platform.name}")
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["sandbox"] = SandboxState(platform, token, store, latency_ms=latency_ms)

    def error_response(status: int, code: str, message: str, extra: dict | None = None) -> Response:
        response = jsonify(platform.error_body(status, code, message, extra or {}))
        response.status_code = status
        return response

    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> Response:
        return error_response(error.status, error.code, error.message, error.extra)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        messages = {404: "Recurso não encontrado.", 405: "Método não permitido.", 400: "Requisição inválida."}
        code = (error.name or "error").lower().replace(" ", "_")
        return error_response(error.code or 500, code, messages.get(error.code or 500, error.name or "Erro"))

    @app.before_request
    def authenticate_and_inject():
        sandbox = state()
        if request.path == "/_sandbox/health":
            return None
        given = request.headers.get("Authorization", "")
        admin = request.path.startswith("/_sandbox/")
        if admin or platform.api_authorized is None:
            authorized = hmac.compare_digest(given.encode(), f"Bearer {sandbox.token}".encode())
        else:
            authorized = platform.api_authorized(given)
        if not authorized:
            raise ApiError(401, "unauthorized", "Token inválido ou ausente.")
        if admin:
            return None
        if sandbox.latency_ms:
            time.sleep(sandbox.latency_ms / 1000)
        fault = sandbox.faults.take(request.method, request.path)
        g.fault = fault
        if fault is None or fault["kind"] == "drop":
            return None  # drop acts after the request is handled
        if fault["kind"] == "ignore":
            # Hold the store for the whole request and put it back as it was afterwards
            # (``forget_ignored_change``): the answer is the usual one, the change never stays.
            sandbox.store.lock.acquire()
            g.ignored_snapshot = copy.deepcopy(sandbox.store.records)
            return None
        if fault["kind"] == "error":
            message = "Erro da plataforma (falha simulada)."
            if fault["echo"] is True:  # like platforms that quote the request back in their errors
                message += " Recebido: " + request.get_data(as_text=True)
            elif fault["echo"]:
                body = request.get_json(silent=True)
                body = body if isinstance(body, dict) else request.form.to_dict()  # JSON or a form
                message += " Recebido: " + json.dumps({name: body.get(name) for name in fault["echo"]})
            return error_response(fault["status"], "injected_error", message)
        if fault["kind"] == "rate_limit":
            response = error_response(429, "rate_limited", "Muitas requisições; tente novamente mais tarde.")
            response.headers["Retry-After"] = str(fault["retry_after"])
            return response
        time.sleep(fault["delay"])
        if fault["kind"] == "timeout":
            _drop_connection()
            return Response(status=504)  # never reaches the client
        return None  # slow: now handle the request

    @app.after_request
    def log_and_maybe_drop(response: Response) -> Response:
        if request.path.startswith("/_sandbox/"):
            return response
        fault = g.get("fault")
        state().requests.append(
            {
                "method": request.method,
                "path": request.path,
                "query": request.query_string.decode(),
                "status": response.status_code,
                "fault": fault["kind"] if fault else None,
                "at": time.time(),  # when it was answered (tests check retries honour Retry-After)
            }
        )
        if fault and fault["kind"] == "drop":
            _drop_connection()
        return response

    @app.teardown_request
    def forget_ignored_change(_error: BaseException | None) -> None:
        snapshot = g.pop("ignored_snapshot", None)
        if snapshot is None:
            return
        store = state().store
        try:
            store.records.clear()
            store.records.update(snapshot)
            store.save()
        finally:
            store.lock.release()

    app.register_blueprint(_admin_blueprint())
    return app


def _drop_connection() -> None:
    """Reset the client's connection: nothing more will be sent on it."""
    sock = request.environ.get("werkzeug.socket")
    if sock is None:
        raise RuntimeError("connection faults need the sandbox's own server (python -m sandbox.<platform>)")
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # the client already went away


def _admin_blueprint() -> Blueprint:
    admin = Blueprint("sandbox_admin", __name__, url_prefix="/_sandbox")

    @admin.get("/health")
    def health():
        return {"ok": True, "platform": state().platform.name}

    @admin.post("/faults")
    def add_fault():
        return state().faults.add(json_object()), 201

    @admin.get("/faults")
    def list_faults():
        return jsonify(state().faults.pending())

    @admin.delete("/faults")
    def clear_faults():
        state().faults.clear()
        return "", 204

    @admin.put("/latency")
    def set_latency():
        try:
            state().latency_ms = max(0.0, float(json_object().get("ms", 0)))
        except (TypeError, ValueError):
            raise ApiError(422, "invalid_latency", "ms deve ser um número.") from None
        return {"ms": state().latency_ms}

    @admin.get("/requests")
    def list_requests():
        return jsonify(list(state().requests))

    @admin.delete("/requests")
    def clear_requests():
        state().requests.clear()
        return "", 204

    @admin.post("/reset")
    def reset():
        sandbox = state()
        with sandbox.store.lock:
            sandbox.store.records.clear()
            sandbox.store.products[:] = [dict(p) for p in sandbox.platform.demo_products]
            sandbox.store.save()
        sandbox.faults.clear()
        sandbox.requests.clear()
        sandbox.latency_ms = 0.0
        return "", 204

    @admin.get("/subscribers")
    def list_subscribers():
        with state().store.lock:
            return jsonify(list(state().store.records.values()))

    @admin.patch("/subscribers/<key>")
    def edit_subscriber(key: str):
        changes = json_object()
        store = state().store
        with store.lock:
            record = _record(key)
            changes.pop(state().platform.record_key, None)  # the key stays the key
            record.update(changes)
            store.save()
            return record

    @admin.delete("/subscribers/<key>")
    def delete_subscriber(key: str):
        store = state().store
        with store.lock:
            _record(key)
            del store.records[key]
            store.save()
        return "", 204

    @admin.post("/products")
    def add_product():
        product = json_object()
        platform, store = state().platform, state().store
        if not isinstance(product.get(platform.product_key), str) or not isinstance(product.get("name"), str):
            raise ApiError(422, "invalid_product", f"Informe {platform.product_key} e name.")
        with store.lock:
            store.products[:] = [p for p in store.products if p[platform.product_key] != product[platform.product_key]]
            store.products.append({platform.product_key: product[platform.product_key], "name": product["name"]})
            store.save()
        return product, 201

    return admin


def _record(key: str) -> dict[str, Any]:
    record = state().store.records.get(key)
    if record is None:
        raise ApiError(404, "not_found", "Assinante não encontrado.")
    return record


def product_codes() -> set[str]:
    platform, store = state().platform, state().store
    return {product[platform.product_key] for product in store.products}


# -- serving ------------------------------------------------------------------------------------


class _NoDelayServer(ThreadedWSGIServer):
    """Threaded, keep-alive, and without Nagle's delay: a stub that waits ~40 ms for delayed ACKs
    on every small response would hide real performance (DESIGN.md, known pitfalls)."""

    def get_request(self):
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address


class _Handler(WSGIRequestHandler):
    """Logs request lines without the query string (ITTV looks customers up by ``?cpf=``).

    Like every werkzeug server it closes the connection after each answer (it cannot tell where
    a request body ends for keep-alive); clients reconnect, which on 127.0.0.1 costs little."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.log("info", '"%s %s" %s', self.command, self.path.split("?", 1)[0], code)


def serve(app: Flask, host: str, port: int, label: str) -> None:
    server = _NoDelayServer(host, port, app, handler=_Handler)
    # The first line says where we listen; with --port 0 it is how callers learn the port.
    print(f"Sandbox {label} ouvindo em http://{host}:{server.server_port}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(create_app: Callable[..., Flask], label: str, argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m sandbox.{label.lower()}", description=f"Sandbox da {label}")
    parser.add_argument("--port", type=int, required=True, help="porta (0: uma livre, impressa ao iniciar)")
    parser.add_argument("--token", default=os.environ.get("SANDBOX_TOKEN"), help="token aceito (ou SANDBOX_TOKEN)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--state-file", help="guarda o estado neste arquivo JSON entre reinícios")
    parser.add_argument("--latency-ms", type=float, default=0, help="atraso somado a cada requisição da API")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("informe --token (ou SANDBOX_TOKEN)")
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    serve(create_app(args.token, state_file=args.state_file, latency_ms=args.latency_ms), args.host, args.port, label)
    return 0
