#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/<target>/ (committed; run again after
changing it). Every seed is written here by hand or built with Python's own
tarfile module, so nothing is copied from elsewhere. Files are named by the
SHA-1 of their content, as libFuzzer names what it adds, so a rerun is stable.

Usage: fuzz/make_corpus.py            (writes into fuzz/corpus)
"""
import hashlib
import io
import os
import struct
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")


def put(target, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def tar_bytes(members, fmt):
    """members: (name, kind, content, pax) tuples."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for name, kind, content, pax in members:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            if pax:
                ti.pax_headers = pax
            if kind == "dir":
                ti.type = tarfile.DIRTYPE
                tf.addfile(ti)
            elif kind == "symlink":
                ti.type = tarfile.SYMTYPE
                ti.linkname = "target"
                tf.addfile(ti)
            else:
                ti.size = len(content)
                tf.addfile(ti, io.BytesIO(content))
    return buf.getvalue()


def tar_corpus():
    sha = "ab" * 32
    cases = [
        ([("a.txt", "file", b"hello\n", None)], tarfile.USTAR_FORMAT),
        ([("d", "dir", b"", None), ("d/x", "file", b"x" * 600, None)], tarfile.USTAR_FORMAT),
        ([("empty", "file", b"", None)], tarfile.GNU_FORMAT),
        ([("p/" + "n" * 120, "file", b"long name", None)], tarfile.PAX_FORMAT),
        ([("f", "file", b"data", {"mtime": "1700000000.123456789", "DE.sha256": sha})],
         tarfile.PAX_FORMAT),
        ([("./dot/./x", "file", b"1", None)], tarfile.USTAR_FORMAT),
        # "./" names the mount root: "" to the handler, as a folder and as a file.
        ([(".", "dir", b"", None), (".", "file", b"1", None)], tarfile.USTAR_FORMAT),
        ([("../up", "file", b"1", None)], tarfile.USTAR_FORMAT),
        ([("link", "symlink", b"", None)], tarfile.USTAR_FORMAT),
        ([("caf\u00e9", "file", b"utf8", None)], tarfile.PAX_FORMAT),
    ]
    for members, fmt in cases:
        raw = tar_bytes(members, fmt)
        # Leading byte: how the fuzz target cuts the stream (0 = whole).
        put("tar_reader", b"\x00" + raw)
        put("tar_reader", b"\x07" + raw[:2048])
    # A pax size record overriding the header, and a global header.
    raw = tar_bytes([("g", "file", b"abc", {"size": "3", "comment": "x"})], tarfile.PAX_FORMAT)
    put("tar_reader", b"\x01" + raw)


def http_corpus():
    reqs = [
        "GET /api/v1/health HTTP/1.1\r\nHost: h\r\n\r\n",
        "PUT /api/v1/apps/a/files/x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
        "PUT /api/v1/apps/a/files/x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n0\r\n\r\n",
        "PATCH /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3;ext=1\r\nabc\r\n0\r\nTrailer: x\r\n\r\n",
        "PUT /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\nhello",
        "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
        "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\n",
        "POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "PUT /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        "PUT /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        "FFFFFFFFFFFFFFFFFF\r\n",
    ]
    for r in reqs:
        put("http_request", b"\x1f" + r.encode())
        put("http_request", b"\x00" + r.encode())


def fields_corpus():
    size = struct.pack("<Q", 100)
    odd = struct.pack("<Q", 1001)  # first byte odd: size % 1000
    for v in ["bytes=0-9", "bytes=90-", "bytes=-10", "bytes=5-1", "bytes=0-1,3-4",
              "bytes=99999999999999999999-", " bytes = 1 - 2 "]:
        put("http_fields", size + v.encode())
        put("http_fields", odd + v.encode())
    for v in ["/api/v1/apps/a/files/x?recursive=true&limit=10",
              "/p?a=%20b&c+d=%zz", "/p?&&=x&k", "/f%C3%A9?x=%ff%00"]:
        put("http_fields", size + v.encode())
    for v in ["Basic dXNlcjprZXk=", "Basic dXNlcg==", "Bearer tok.en", "basic  Zm9vOmJhcg==",
              "Negotiate x", "Bearer", "application/JSON ; charset=utf-8", "true", "no"]:
        put("http_fields", size + v.encode())


def tus_corpus():
    for v in ["filename d29ybGQudHh0,path YS9i,overwrite dHJ1ZQ==", "is_confidential",
              "a YQ,b Yg==,a Yw", "key bad!", "sha256 " + "A" * 43 + "=",
              "sha1 " + "A" * 27 + "=", "crc32c AAAAAA==", "crc64 AAAAAAAAAAA=", "CRC64 AAAAAA==", "md5 AAAA",
              "partial", "final;/api/v1/apps/app/uploads/" + "0" * 32 +
              " http://h/api/v1/apps/app/uploads/" + "f" * 32,
              "final;", b"\xff\x01\x80"]:
        put("tus_headers", v)


def remote_path_corpus():
    for v in ["a/b/c", "/a//b/./c/", "..", "a/../b", "", "/", "a\x01b", b"\xc3\xa9t\xc3\xa9", b"\xe9t\xe9",
              "n" * 256, "x/" * 10, "a\\b", ".../..."]:
        put("remote_path", v)


def glob_corpus():
    for pat, path in [("*.tmp", "a/b/x.tmp"), ("a/**/b", "a/b"), ("/build/", "build"),
                      ("[!0-9]?", "x1"), ("[a-", "[a-"), ("\\*", "*"),
                      ("*a*a*a*a*a*a*a*a*b", "a" * 60), ("**/node_modules", "x/node_modules/y"),
                      ("[]]", "]"), ("[^/]", "/")]:
        put("glob", pat + "\0" + path)


def project_corpus():
    for v in ["[scripts]\npredeploy = \"scripts/predeploy.sh\"\n",
              "\ufeff[scripts]\r\npredeploy = 'x'\r\n",
              "[scripts]\npredeploy = 3\n", "scripts = 1\n", "[scripts\n",
              "[app]\nname = \"x\"\n[scripts]\npredeploy = \"\"\n",
              "web: python app.py\nworker: run\n# comment\n\n",
              "web python\nbad name: x\nweb: again\n", "a = \"\\u0000\"\n",
              "x = [[[[[[[[[[1]]]]]]]]]]\n", "t = 1979-05-27T07:32:00Z\n"]:
        put("project_toml", v)


def json_corpus():
    for v in ['{"path":"a/b","type":"file","size":3,"mtime_ns":1,"sha256":"ab"}',
              '{"path":"d","type":"dir","size":0,"mtime_ns":-5}',
              '{"path":"\\u00e9","type":"file","size":-1,"mtime_ns":1e30}',
              '{"id":"x","holder":"h pid=1","since":1,"expires":2}',
              '{"name":"app","mount":{"enabled":true}}', "[1,2,{}]", '"\\ud800"',
              b"caf\xe9", b"{\"path\": \"\xff\"}"]:
        put("json_names", v)


def dav_xml_corpus():
    # PROPFIND, PROPPATCH and LOCK bodies, a DOCTYPE with entities (refused),
    # and If headers (tagged and untagged): one target feeds all four parsers.
    for v in [
        '<?xml version="1.0" encoding="utf-8" ?><D:propfind xmlns:D="DAV:"><D:prop xmlns:R="urn:r">'
        '<R:bigbox/><D:getetag/><n xmlns=""/></D:prop></D:propfind>',
        "<propfind xmlns='DAV:'><allprop/><include><supported-report-set/></include><foobar/>"
        "</propfind>",
        "<D:propertyupdate xmlns:D='DAV:' xmlns:a='urn:a' xmlns:b='urn:b'><D:set><D:prop>"
        "<a:p xml:lang='de'> t <a:x b:k='1&amp;' c='&#9;'>in<a:y/><z xmlns=''>n</z></a:x>&#13;"
        "<![CDATA[<r>]]></a:p></D:prop></D:set><D:remove><D:prop><a:q/></D:prop></D:remove>"
        "</D:propertyupdate>",
        "<?xml version=\"1.0\"?><lockinfo xmlns='DAV:'><lockscope><exclusive/></lockscope>"
        "<locktype><write/></locktype><owner><href>http://example.org/~ejw/contact.html</href>"
        "</owner></lockinfo>",
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 '
        '"&lol;&lol;&lol;">]>\n<propfind xmlns="DAV:"><prop><x>&lol1;</x></prop></propfind>\n',
        '<http://www.example.com/specs/> (<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> '
        '["e1"]) </x> (Not <DAV:no-lock> [W/"A weak ETag"])',
        "(<opaquelocktoken:abc>) (Not <DAV:no-lock>)"]:
        put("dav_xml", v)


def main():
    if len(sys.argv) > 1:
        sys.exit(__doc__)
    tar_corpus()
    http_corpus()
    fields_corpus()
    tus_corpus()
    remote_path_corpus()
    glob_corpus()
    project_corpus()
    json_corpus()
    dav_xml_corpus()


if __name__ == "__main__":
    main()
