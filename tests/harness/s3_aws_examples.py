#!/usr/bin/env python3
"""s3_aws_examples.py PORT — sends AWS's published SigV4 example requests
(Amazon S3 API reference, "Examples: Signature Calculations" and "Example:
PUT Object" of the chunked upload page: access key AKIAIOSFODNN7EXAMPLE,
20130524T000000Z, us-east-1) byte for byte to an s3_server.py started with
that key, bucket `examplebucket`, --vhost-suffix s3.amazonaws.com and a
clock at 2013-05-24 (faketime), then the same requests with one byte of
the signature or of the payload changed.  Prints one line per request:
NAME STATUS CODE.  A server that verifies signatures answers the published
ones with anything but 403, and the altered ones with 403."""

import socket
import sys

PORT = int(sys.argv[1])
AK = "AKIAIOSFODNN7EXAMPLE"
SCOPE = AK + "/20130524/us-east-1/s3/aws4_request"
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
VH = "examplebucket.s3.amazonaws.com"


def send(raw):
    s = socket.create_connection(("127.0.0.1", PORT))
    s.sendall(raw)
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    status = out.split(b" ", 2)[1].decode()
    code = out.split(b"<Code>")[1].split(b"</Code>")[0].decode() if b"<Code>" in out else "-"
    return status, code


def req(method, target, headers, signed, sig, body=b""):
    h = "".join("%s: %s\r\n" % kv for kv in headers)
    auth = "AWS4-HMAC-SHA256 Credential=%s,SignedHeaders=%s,Signature=%s" % (SCOPE, signed, sig)
    return ("%s %s HTTP/1.1\r\n%sAuthorization: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
            % (method, target, h, auth, len(body))).encode() + body


def flip(sig):
    return ("0" if sig[0] != "0" else "1") + sig[1:]


def cases(alter):
    f = flip if alter else (lambda s: s)
    put_body = b"Welcome to Amazon S3." if not alter else b"Welcome to Amazon S4."
    yield "PUT Object", req(
        "PUT", "/test%24file.text",
        [("Host", VH), ("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-date", "20130524T000000Z"),
         ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
         ("x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")],
        "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd", put_body)
    yield "GET Object", req(
        "GET", "/test.txt",
        [("Host", VH), ("Range", "bytes=0-9"), ("x-amz-content-sha256", EMPTY), ("x-amz-date", "20130524T000000Z")],
        "host;range;x-amz-content-sha256;x-amz-date",
        f("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"))
    yield "GET Bucket Lifecycle", req(
        "GET", "/?lifecycle",
        [("Host", VH), ("x-amz-date", "20130524T000000Z"), ("x-amz-content-sha256", EMPTY)],
        "host;x-amz-content-sha256;x-amz-date",
        f("fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"))
    yield "GET Bucket (List Objects)", req(
        "GET", "/?max-keys=2&prefix=J",
        [("Host", VH), ("x-amz-date", "20130524T000000Z"), ("x-amz-content-sha256", EMPTY)],
        "host;x-amz-content-sha256;x-amz-date",
        f("34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"))
    # chunked upload (path style): 64 KiB + 1 KiB of 'a', then the final
    # empty chunk
    sigs = ["ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"]
    body = b""
    for data, sig in ((b"a" * 65536, sigs[0]), (b"a" * 1024 if not alter else b"b" + b"a" * 1023, sigs[1]),
                      (b"", sigs[2])):
        body += b"%x;chunk-signature=%s\r\n" % (len(data), sig.encode()) + data + b"\r\n"
    yield "PUT Object, chunked", req(
        "PUT", "/examplebucket/chunkObject.txt",
        [("Host", "s3.amazonaws.com"), ("x-amz-date", "20130524T000000Z"), ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
         ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), ("Content-Encoding", "aws-chunked"),
         ("x-amz-decoded-content-length", "66560")],
        "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",
        "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9", body)


for alter in (False, True):
    for name, raw in cases(alter):
        print("%s%s %s %s" % ("altered " if alter else "", name, *send(raw)))
