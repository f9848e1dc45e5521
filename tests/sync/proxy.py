"""A misbehaving network between a desk and the sync server: a threaded TCP proxy on loopback.

TLS passes through it as raw bytes, so the desk still checks the server's own certificate; the
proxy never sees a request or an answer in clear. It follows TLS's record framing from the desk
to tell the handshake from what comes after (TLS 1.3: the desk's first encrypted record is its
Finished, the next ones its requests), and while a fault is set it spoils what the server sends
back once a request went through:

- ``REFUSE``: a connection is closed as soon as it is made (nothing reaches the server);
- ``DROP``: the request reaches the server, the connection is closed when the server answers;
- ``TRUNCATE``: the answer is cut off part-way (in the middle of its last TLS record), then the
  connection is closed;
- ``DELAY``: the answer is held back ``delay`` seconds (longer than the desk waits).

Everything is bounded: each connection's thread ends when either side closes or the proxy
does, and ``close`` joins them.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import time
from enum import Enum

APPLICATION_DATA = 23  # a TLS record's content type
QUIET = 0.3  # seconds without more from the server: its answer is all there


class Fault(Enum):
    NONE = "none"
    REFUSE = "refuse"
    DROP = "drop"
    TRUNCATE = "truncate"
    DELAY = "delay"


class Records:
    """TLS record boundaries in one direction of a connection."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.encrypted = 0  # application-data records seen so far
        self.lengths: list[int] = []  # of the records seen whole, in order

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= 5:
            length = int.from_bytes(self.buffer[3:5], "big")
            if len(self.buffer) < 5 + length:
                return
            if self.buffer[0] == APPLICATION_DATA:
                self.encrypted += 1
            self.lengths.append(5 + length)
            del self.buffer[: 5 + length]


class FaultyProxy:
    def __init__(self, target_port: int, delay: float = 3.0) -> None:
        self.target_port = target_port
        self.delay = delay
        self.fault = Fault.NONE
        self.spoiled = 0  # answers (or connections) the fault hit
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(32)
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._accepting = threading.Thread(target=self._accept, name="proxy-accept", daemon=True)
        self._accepting.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def set(self, fault: Fault) -> None:
        self.fault = fault

    def close(self) -> None:
        self._stop.set()
        self._accepting.join(timeout=5)
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)
        assert not any(t.is_alive() for t in self._threads), "a proxy connection did not end"

    def _hit(self) -> None:
        with self._lock:
            self.spoiled += 1

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._relay, args=(client,), daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def _relay(self, client: socket.socket) -> None:
        with client:
            if self.fault is Fault.REFUSE:  # cut during the handshake: its first words read
                self._hit()
                client.settimeout(2)
                with contextlib.suppress(OSError):
                    client.recv(65536)
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                return  # the server is down: the desk sees its connection closed
            with server, selectors.DefaultSelector() as selector:
                selector.register(client, selectors.EVENT_READ)
                selector.register(server, selectors.EVENT_READ)
                with contextlib.suppress(OSError):  # either side gone: the connection ends
                    self._pump(client, server, selector)

    def _pump(self, client: socket.socket, server: socket.socket, selector) -> None:
        from_desk = Records()
        held = bytearray()
        held_at = last_at = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            fault = self.fault
            if held and fault is Fault.TRUNCATE and now - last_at > QUIET:
                self._hit()
                client.sendall(_cut(held))
                return
            late = fault is Fault.DELAY and now - held_at > self.delay
            if held and (fault is Fault.NONE or late):
                client.sendall(held)
                held.clear()
            for key, _ in selector.select(timeout=0.02):
                data = key.fileobj.recv(65536)
                if not data:
                    return
                if key.fileobj is client:
                    from_desk.feed(data)
                    server.sendall(data)
                    continue
                asked = from_desk.encrypted >= 2  # its Finished, then a request
                if fault is Fault.NONE or not asked:
                    client.sendall(data)
                elif fault is Fault.DROP:
                    self._hit()
                    return
                else:
                    if not held:
                        held_at = time.monotonic()
                        if fault is Fault.DELAY:
                            self._hit()
                    last_at = time.monotonic()
                    held += data


def _cut(answer: bytes) -> bytes:
    """All of ``answer`` but the second half of its last TLS record."""
    records = Records()
    records.feed(answer)
    last = records.lengths[-1] if records.lengths else len(answer)
    return answer[: len(answer) - last // 2]
