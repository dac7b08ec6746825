"""A loopback TCP forwarder we control, to cut a shared service (PostgreSQL) off from our nodes only.

The shared PostgreSQL cannot be stopped without disturbing everyone else on the machine, so the
nodes of a fault run reach it through this proxy. ``cut`` closes the listening socket (new
connections are refused) and drops every forwarded connection (queries in flight fail);
``restore`` listens again on the same port, so the nodes' pools reconnect by themselves.
"""

from __future__ import annotations

import contextlib
import socket
import threading


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TcpProxy:
    """Forwards a local port to ``target``; ``cut`` makes the target unreachable, ``restore`` undoes it."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1", port: int | None = None) -> None:
        self.target = (target_host, target_port)
        self.port = port or _free_port()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.restore()

    @property
    def is_cut(self) -> bool:
        """Whether connections are refused right now."""
        return self._listener is None

    def restore(self) -> None:
        """Listen (again) on the same port."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Stop listening and drop every forwarded connection (the database 'goes away')."""
        if self._listener is not None:
            with contextlib.suppress(OSError):  # wakes the thread blocked in accept()
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def close(self) -> None:
        """Cut for good (end of the run)."""
        self.cut()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                if listener is not self._listener:  # cut while we connected: drop this one too
                    client.close()
                    upstream.close()
                    continue
                self._conns += [client, upstream]
            threading.Thread(target=self._serve, args=(client, upstream), daemon=True).start()

    def _serve(self, client: socket.socket, upstream: socket.socket) -> None:
        # Both directions, then both sockets closed and forgotten (a long run does not keep them all).
        back = threading.Thread(target=self._pipe, args=(upstream, client), daemon=True)
        back.start()
        self._pipe(client, upstream)
        back.join()
        with self._lock:
            self._conns = [c for c in self._conns if c not in (client, upstream)]
        for conn in (client, upstream):
            conn.close()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)
