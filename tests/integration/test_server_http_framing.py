"""Strict HTTP framing (issue 18): a request whose body length two parsers could
read differently is answered with an error and the connection closed, never
guessed at. Raw sockets, so nothing on the way fixes the request up:
- malformed chunk framing (bad size, missing CRLF, overflowing size, bad
  extension) answers 400 on a file PUT, a tus PATCH and a JSON route;
- only `chunked` alone is a transfer coding: `gzip, chunked` -> 501, a list
  not ending in chunked -> 400, chunked twice -> 400, HTTP/1.0 with one -> 400;
- Content-Length must be one number: `5, 5`, `5,6`, `+5`, a second field line,
  an overflowing or hex value -> 400;
- an HTTP/1.1 request without Host (or with two) -> 400;
- Content-Length with Transfer-Encoding -> 400.
Each answer is a JSON error, the server closes the connection at once, and
nothing is stored."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_harness import OCTETS, Client, Server, basic, check, eq, finish, meta

srv = Server()
try:
    key = srv.add_user("alice")
    auth = basic("alice", key)
    alice = Client(srv, auth)
    alice.create_app("app1")
    mount = srv.mount_dir("app1")
    files = "/api/v1/apps/app1/mount/files/"

    def send(head, body=b"", host=True, version="1.1"):
        """Sends a request; returns (status line, whole answer, seconds until close)."""
        lines = [head.replace("HTTP/1.1", f"HTTP/{version}").rstrip("\r\n")]
        if host:
            lines.append("Host: x")
        lines.append(f"Authorization: {auth}")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode()
        t0 = time.monotonic()
        out = srv.raw(data + body, timeout=8)
        return out.split(b"\r\n", 1)[0], out, time.monotonic() - t0

    def expect(name, want, head, body=b"", **kw):
        first, out, took = send(head, body, **kw)
        check(first.startswith(f"HTTP/1.1 {want} ".encode()) or
              first.startswith(f"HTTP/1.0 {want} ".encode()),
              f"{name} -> {want}", repr(out[:200]))
        check(b'"error"' in out, f"{name}: a JSON error", repr(out[:200]))
        check(took < 5, f"{name}: the connection closes after the answer", f"{took:.1f}s")
        return out

    # ---- controls: well-framed requests still work ----------------------------------------------
    first, out, _ = send(f"PUT {files}ok.txt HTTP/1.1\r\nContent-Length: 5\r\nConnection: close\r\n",
                         b"hello")
    check(first.startswith(b"HTTP/1.1 201"), "PUT with Content-Length -> 201", repr(out[:200]))
    first, out, _ = send(f"PUT {files}chunked.txt HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                         "Connection: close\r\n", b"5;name=v\r\nhello\r\n3\r\n!!!\r\n0\r\n\r\n")
    check(first.startswith(b"HTTP/1.1 201"), "PUT chunked (with an extension) -> 201", repr(out[:200]))
    with open(os.path.join(mount, "chunked.txt"), "rb") as f:
        eq(f.read(), b"hello!!!", "the chunked body is stored")
    first, out, _ = send("GET /api/v1/health HTTP/1.0\r\n", host=False, version="1.0")
    check(first.startswith(b"HTTP/1.0 200") or first.startswith(b"HTTP/1.1 200"),
          "HTTP/1.0 without Host -> 200", repr(out[:200]))
    first, out, _ = send(f"PUT {files}ows.txt HTTP/1.1\r\nContent-Length:  2 \r\nConnection: close\r\n",
                         b"ok")
    check(first.startswith(b"HTTP/1.1 201"), "Content-Length with spaces around -> 201",
          repr(out[:200]))

    # ---- malformed chunk framing: 400, nothing stored -------------------------------------------
    te = "Transfer-Encoding: chunked\r\n"
    for name, body in [
        ("a chunk size that is not hex", b"zz\r\nhello\r\n0\r\n\r\n"),
        ("a chunk without its CRLF", b"5\r\nhelloXX3\r\nabc\r\n0\r\n\r\n"),
        ("a chunk size that overflows", b"FFFFFFFFFFFFFFFFFFFF\r\nx\r\n0\r\n\r\n"),
        ("a chunk size line with a bare LF", b"5\nhello\r\n0\r\n\r\n"),
        ("a malformed chunk extension", b"5;=\r\nhello\r\n0\r\n\r\n"),
    ]:
        target = f"bad-{len(body)}-{name[2:8].replace(' ', '_')}.txt"
        expect(f"PUT with {name}", 400, f"PUT {files}{target} HTTP/1.1\r\n{te}", body)
        check(not os.path.exists(os.path.join(mount, target)), f"PUT with {name}: nothing stored")
    expect("a JSON route with bad chunk framing", 400,
           "POST /api/v1/apps/app1/mount/mkdir HTTP/1.1\r\nContent-Type: application/json\r\n" + te,
           b"zz\r\n{}\r\n0\r\n\r\n")

    # tus: a PATCH (and a creation with a body) with bad chunk framing.
    r = alice.request("POST", "/api/v1/apps/app1/uploads",
                      headers={"Tus-Resumable": "1.0.0", "Upload-Length": "10",
                               "Upload-Metadata": meta(path="t.bin")})
    eq(r.status, 201, "tus creation")
    url = r.header("Location") or ""
    expect("a tus PATCH with bad chunk framing", 400,
           f"PATCH {url} HTTP/1.1\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
           f"Content-Type: {OCTETS}\r\n{te}", b"3\r\nabcXX0\r\n\r\n")
    r = alice.request("HEAD", url, headers={"Tus-Resumable": "1.0.0"})
    # The chunk that arrived whole before the framing broke is kept, as after a
    # dropped connection (tus keeps what was received; the upload's SHA-256 is
    # checked at completion); nothing past it.
    eq(r.header("Upload-Offset"), "3", "the bad PATCH keeps only its whole chunk")
    expect("tus complete with bad chunk framing", 400,
           f"POST {url}/complete HTTP/1.1\r\nTus-Resumable: 1.0.0\r\n"
           f"Content-Type: application/json\r\n{te}", b"q\r\n{}\r\n0\r\n\r\n")

    # ---- transfer codings -----------------------------------------------------------------------
    put = f"PUT {files}te.txt HTTP/1.1\r\n"
    expect("Transfer-Encoding: gzip, chunked", 501, put + "Transfer-Encoding: gzip, chunked\r\n",
           b"0\r\n\r\n")
    expect("Transfer-Encoding: gzip then chunked on two lines", 501,
           put + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n")
    expect("Transfer-Encoding: gzip (no chunked)", 400, put + "Transfer-Encoding: gzip\r\n",
           b"hello")
    expect("Transfer-Encoding: chunked, gzip", 400, put + "Transfer-Encoding: chunked, gzip\r\n",
           b"0\r\n\r\n")
    expect("Transfer-Encoding: chunked, chunked", 400,
           put + "Transfer-Encoding: chunked, chunked\r\n", b"0\r\n\r\n")
    expect("Transfer-Encoding: identity", 400, put + "Transfer-Encoding: identity\r\n", b"")
    expect("Transfer-Encoding on HTTP/1.0", 400, put + "Transfer-Encoding: chunked\r\n",
           b"0\r\n\r\n", version="1.0")
    check(not os.path.exists(os.path.join(mount, "te.txt")), "no transfer-coding case stored a file")

    # ---- Content-Length -------------------------------------------------------------------------
    put = f"PUT {files}cl.txt HTTP/1.1\r\n"
    for value in ["5, 5", "5,5", "5,6", "+5", "-5", "0x5", "5 5", "",
                  "99999999999999999999999", "18446744073709551616"]:
        expect(f"Content-Length: {value!r}", 400, put + f"Content-Length: {value}\r\n", b"hello")
    expect("two Content-Length lines, equal", 400,
           put + "Content-Length: 5\r\nContent-Length: 5\r\n", b"hello")
    expect("Content-Length and Transfer-Encoding", 400,
           put + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n")
    expect("Transfer-Encoding and Content-Length", 400,
           put + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", b"0\r\n\r\n")
    check(not os.path.exists(os.path.join(mount, "cl.txt")), "no Content-Length case stored a file")

    # ---- Host -----------------------------------------------------------------------------------
    expect("HTTP/1.1 without Host", 400, "GET /api/v1/health HTTP/1.1\r\n", host=False)
    expect("HTTP/1.1 with two Host lines", 400, "GET /api/v1/health HTTP/1.1\r\nHost: y\r\n")
    expect("a Host with a space", 400, "GET /api/v1/health HTTP/1.1\r\nHost: a b\r\n", host=False)

    eq(Client(srv, None).get("/api/v1/health").status, 200, "server alive after every case")
finally:
    srv.close()
finish()
