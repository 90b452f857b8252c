#!/usr/bin/env python3
"""sigv4_botocore.py: sign requests with botocore (the copy inside Debian's
awscli, or a standalone botocore) for test_sigv4's cross-check.

stdin, one request per line, tab-separated:
  service  region  amzdate  access_key  secret  token|-  method  url  body|-  [Name:value ...]
stdout: one Authorization header value per line.  Exit 77 when botocore is
not importable (the test then skips the cross-check)."""
import datetime
import sys

try:
    try:
        import awscli  # noqa: F401  Debian's awscli makes its copy "botocore"
    except ImportError:
        pass
    from botocore import auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError:
    sys.exit(77)


class FixedClock:
    def __init__(self, when):
        self.when = when

    def utcnow(self):
        return self.when

    def now(self, tz=None):
        return self.when.replace(tzinfo=tz) if tz else self.when


class DatetimeShim:
    def __init__(self, when):
        self.datetime = FixedClock(when)
        self.timezone = datetime.timezone


for line in sys.stdin:
    f = line.rstrip("\n").split("\t")
    service, region, amzdate, ak, sk, token, method, url, body = f[:9]
    headers = {}
    for h in f[9:]:
        k, v = h.split(":", 1)
        headers[k] = v
    when = datetime.datetime.strptime(amzdate, "%Y%m%dT%H%M%SZ")
    auth.datetime = DatetimeShim(when)
    if hasattr(auth, "get_current_datetime"):  # newer botocore
        auth.get_current_datetime = lambda *a, **k: when
    creds = Credentials(ak, sk, None if token == "-" else token)
    cls = auth.S3SigV4Auth if service == "s3" else auth.SigV4Auth
    signer = cls(creds, service, region)
    if service == "s3" and url.startswith("https:"):
        # what sinkpipe does over TLS: UNSIGNED-PAYLOAD (+ Content-MD5)
        signer._should_sha256_sign_payload = lambda request: False
    req = AWSRequest(method=method, url=url, headers=headers,
                     data=b"" if body == "-" else body.encode())
    signer.add_auth(req)
    print(req.headers["Authorization"])
    sys.stdout.flush()
