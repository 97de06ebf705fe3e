"""Graceful shutdown (issue 17): on SIGTERM de-server stops accepting at once, /readyz answers
503 from the moment the drain starts (/livez still 200), and a slow upload that was in flight
completes (201, the file whole) within --shutdown-grace, as does a WebDAV listing of 10,000
members that a slow reader was taking in (its pages stat'ed on the pool meanwhile: issue 16);
then the process exits 0. About 4 s."""
import json
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_harness import Client, Server, basic, check, data_of, eq, finish


def read_answer(s):
    """Status and body of one answer (Content-Length framed)."""
    out = b""
    while b"\r\n\r\n" not in out:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    head, _, body = out.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else -1
    return status, body


def probe_in_flight(srv, path):
    """A probe whose header has arrived and whose (one-byte) body has not: a request in
    flight that the drain lets finish, so it is answered after the drain began."""
    s = socket.create_connection((srv.host, srv.port), timeout=20)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\n".encode())
    return s


srv = Server("--shutdown-grace", "30")
try:
    key = srv.add_user("alice")
    alice = Client(srv, basic("alice", key))
    alice.create_app("d")
    eq(alice.get("/readyz").status, 200, "/readyz 200 before the drain")
    alice.c.close()

    # A PROPFIND Depth 1 of 10,000 members (about 6.8 MB of XML, more than the sockets' buffers
    # hold) read slowly: de-server is still writing it when the drain begins.
    many = os.path.join(srv.mount_dir("d"), "many")
    os.makedirs(many)
    for i in range(10000):
        open(os.path.join(many, "f%05d" % i), "w").close()
    pf = socket.socket()
    pf.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
    pf.settimeout(30)
    pf.connect((srv.host, srv.port))
    pf.sendall(f"PROPFIND /dav/d/many/ HTTP/1.1\r\nHost: t\r\nDepth: 1\r\n"
               f"Authorization: {basic('alice', key)}\r\nContent-Length: 0\r\n\r\n".encode())
    listing = pf.recv(4096)
    check(listing.startswith(b"HTTP/1.1 207"), "the listing started before SIGTERM")

    size = 6 << 20
    data = data_of(size, "drain")
    up = socket.create_connection((srv.host, srv.port), timeout=20)
    up.sendall(f"PUT /api/v1/apps/d/mount/files/slow.bin HTTP/1.1\r\nHost: t\r\n"
               f"Authorization: {basic('alice', key)}\r\nContent-Length: {size}\r\n\r\n".encode()
               + data[:1 << 20])
    ready = probe_in_flight(srv, "/readyz")
    live = probe_in_flight(srv, "/livez")
    # The upload is being received before the signal (the metrics say so).
    for _ in range(100):
        m = alice.get("/metrics").body.decode()
        if "de_uploads_in_flight 1\n" in m:
            break
        time.sleep(0.05)
    check("de_uploads_in_flight 1\n" in m, "the upload is in flight before SIGTERM")
    alice.c.close()
    time.sleep(0.2)  # the metrics connection's lingering close ends

    srv.proc.send_signal(signal.SIGTERM)
    refused = False
    for _ in range(100):
        try:
            socket.create_connection((srv.host, srv.port), timeout=2).close()
            time.sleep(0.02)
        except (ConnectionRefusedError, ConnectionResetError):
            # Reset: the handshake had completed into the listener's backlog when the drain
            # closed the listener; that connection is not served either.
            refused = True
            break
    check(refused, "a new connection is refused once the drain began")

    ready.sendall(b"x")
    status, body = read_answer(ready)
    eq(status, 503, "/readyz 503 while draining")
    eq(json.loads(body).get("status"), "draining", "with a short reason")
    ready.close()
    live.sendall(b"x")
    eq(read_answer(live)[0], 200, "/livez still 200 while draining")
    live.close()

    for i in range(1, size >> 20):
        up.sendall(data[i << 20:(i + 1) << 20])
        time.sleep(0.05)
    status, body = read_answer(up)
    eq(status, 201, "the upload in flight completed during the drain")
    up.close()
    time.sleep(0.5)
    check(srv.proc.poll() is None, "de-server still drains: the listing is not all sent yet")
    while not listing.endswith(b"\r\n0\r\n\r\n"):
        chunk = pf.recv(65536)
        if not chunk:
            break
        listing += chunk
    pf.close()
    check(listing.endswith(b"</D:multistatus>\n\r\n0\r\n\r\n"),
          "the listing in flight ended whole, with its last chunk, during the drain")
    eq(listing.count(b"<D:response>"), 10001, "the listing holds the folder and its 10,000 members")
    try:
        rc = srv.proc.wait(timeout=45)
    except Exception:
        rc = None
    eq(rc, 0, "de-server exits 0 after the drain")
    with open(os.path.join(srv.mount_dir("d"), "slow.bin"), "rb") as f:
        check(f.read() == data, "the file is there with the bytes sent")
    check("signal 15: stopping" in srv.stderr(), "the drain was logged")
finally:
    srv.close()

finish()
