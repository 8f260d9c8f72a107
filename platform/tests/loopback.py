"""A TCP listener on 127.0.0.1 that counts connections, for tests that prove nothing is fetched.

    with Loopback() as listener:
        ...  # use listener.url("/schema.json") somewhere a server must not fetch from
    assert listener.connections == 0

Anything that does connect gets an HTTP 200 with a harmless JSON Schema, so a fetch would make
the schema look fine instead of failing for another reason.
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType

_REPLY = (
    b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n"
    b'{"type":"string"}'
)


class Loopback:
    def __init__(self) -> None:
        self.connections = 0
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def port(self) -> int:
        port: int = self._socket.getsockname()[1]
        return port

    def url(self, path: str = "/schema.json") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with connection:
                connection.settimeout(1.0)
                try:
                    connection.recv(65536)
                    connection.sendall(_REPLY)
                except OSError:
                    pass

    def __enter__(self) -> Loopback:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()
