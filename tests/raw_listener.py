"""A TCP port on 127.0.0.1 that speaks neither TLS nor HTTP: it accepts connections and records
the bytes each one sent. Tests use it to prove that a refused call was refused on connecting,
before a TLS handshake or an HTTP request left the panel."""

from __future__ import annotations

import socket
import threading
import time


class RawListener:
    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.1)
        self.port: int = self._server.getsockname()[1]
        self.received: list[bytes] = []  # one entry per connection, what it sent before closing
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with connection:
                connection.settimeout(1.0)  # a TLS client waits for our answer: stop reading then
                data = b""
                try:
                    while chunk := connection.recv(4096):
                        data += chunk
                except OSError:
                    pass
                self.received.append(data)

    def wait_for_connections(self, count: int = 1, seconds: float = 5) -> list[bytes]:
        deadline = time.monotonic() + seconds
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.received)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.close()

    def __enter__(self) -> RawListener:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
