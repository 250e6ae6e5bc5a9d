"""The hostile test server: a client hanging up is expected and quiet; other errors show."""

from __future__ import annotations

import socket
import struct
import time

import pytest

from testing.hostile_server import Reply, Seen, hostile_server

REQUEST = b"GET /v1/clients/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"


def connect(url: str) -> socket.socket:
    port = int(url.split(":")[2].split("/")[0])
    return socket.create_connection(("127.0.0.1", port), timeout=30)


def whole_answer(client: socket.socket) -> bytes:
    """Headers and body: once they are here, the server has written all it will write."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += client.recv(65536) or b"\r\n\r\n"
    head, _, body = answer.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = client.recv(65536)
        assert chunk, "the server closed before the whole body"
        body += chunk
    return head


def test_a_client_that_resets_the_connection_prints_no_traceback(
    capfd: pytest.CaptureFixture[str],
) -> None:
    with hostile_server([Reply(200, {"id": 1})], max_seconds=60) as server:
        with connect(server.url) as client:
            client.sendall(REQUEST)
            assert whole_answer(client).startswith(b"HTTP/1.1 200")
            # Close with a reset (SO_LINGER 0) while the server waits for the next request.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        deadline = time.monotonic() + 30
        while server.hung_up == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.hung_up == 1
    assert "Traceback" not in capfd.readouterr().err


def test_any_other_error_in_the_server_still_shows(capfd: pytest.CaptureFixture[str]) -> None:
    def broken(seen: Seen) -> Reply:
        raise RuntimeError("a bug in the responder")

    with hostile_server(broken, max_seconds=60) as server, connect(server.url) as client:
        client.sendall(REQUEST)
        assert client.recv(65536) == b""  # the handler failed: the server closes
    err = capfd.readouterr().err
    assert "Traceback" in err and "RuntimeError: a bug in the responder" in err
    assert server.hung_up == 0
