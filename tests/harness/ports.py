"""Free TCP ports on loopback."""

from __future__ import annotations

import contextlib
import socket
import subprocess

LOOPBACK = "127.0.0.1"


def _bound_socket(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((LOOPBACK, port))
    except OSError:
        sock.close()
        raise
    return sock


def free_port() -> int:
    """One port that is free on 127.0.0.1 right now."""
    with contextlib.closing(_bound_socket()) as sock:
        return sock.getsockname()[1]


def free_ports(count: int, *, with_offset: int | None = None) -> list[int]:
    """``count`` distinct free ports on 127.0.0.1.

    All sockets stay bound until every port is chosen, so the ports are distinct; they
    are released together just before returning (the caller should use them at once).
    With ``with_offset``, the first port ``p`` is chosen so that ``p + with_offset`` is
    free too, and that port is returned as the second element.
    """
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        if with_offset is not None:
            while True:
                first = _bound_socket()
                held.append(first)
                port = first.getsockname()[1]
                if port + with_offset > 65535:
                    continue
                try:
                    held.append(_bound_socket(port + with_offset))
                except OSError:
                    continue
                ports += [port, port + with_offset]
                break
        while len(ports) < count:
            sock = _bound_socket()
            held.append(sock)
            ports.append(sock.getsockname()[1])
        return ports
    finally:
        for sock in held:
            sock.close()


def terminate(process, timeout: float = 10.0) -> None:
    """Stop a server the harness started, by its PID: politely, then for good."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def log_tail(path, lines: int = 25) -> str:
    """The last lines of a server's log, for the message when it fails to start."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
