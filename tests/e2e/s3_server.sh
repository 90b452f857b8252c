#!/usr/bin/env bash
# s3_server: the S3 test peer (tests/harness/s3_server.py) is strict, as
# proven with independent clients — Debian's aws CLI and curl --aws-sigv4.
# Correct credentials work (put/get/list, Range, a multipart `aws s3 cp`
# whose ETag is S3's md5-of-md5s, the s3api multipart calls, presigned
# URLs, virtual-hosted addressing, checksums); each of a wrong secret, an
# unknown key, an unsigned request, a tampered payload hash, a wrong
# region, a skewed clock, a bad Content-MD5, a bad checksum, a too-small
# part, a wrong part ETag, parts out of order, If-None-Match on an
# existing key, a read-only key writing, a denied role, a missing external
# id, a missing/wrong/expired session token is refused with S3's (or
# STS's) code; AWS's own published SigV4 examples (also the aws-chunked
# one) verify and, altered, do not; faults injected through the proxy fire
# and are counted.
. "$(dirname "$0")/lib.sh"
# It tests the peer, not sinkpipe: nothing to gain from the sanitizer pass.
if [ -n "${SINKPIPE_ASAN:-}" ]; then ok "skipped under ASan: tests the S3 peer, not sinkpipe"; finish; fi
. "$E2E_ROOT/tests/harness/s3.sh"

if ! s3_available; then
  not_ok "python3, aws and curl are available for the S3 peer"; finish
fi
s3_start --proxy --sts-lifetime 3 || { not_ok "s3_server and proxy start"; finish; }
ok "s3_server and proxy start ($S3_TEST_DIRECT_ENDPOINT, proxy $S3_TEST_ENDPOINT)"
EP=$S3_TEST_DIRECT_ENDPOINT
T=$E2E_TMP

# aws_fails WHAT CODE ARGS...: the aws command fails naming CODE
aws_fails() {
  local what=$1 code=$2 out; shift 2
  if out=$(s3_aws "$@" 2>&1); then
    not_ok "$what (succeeded, want $code)"
  else
    expect_contains "$what" "$out" "($code)"
  fi
}
sha() { sha256sum "$1" | cut -c1-64; }
EMPTY=$(printf '' | sha256sum | cut -c1-64)
# scurl ARGS...: curl signing with the test credentials (region us-east-1);
# prints the body then the status code on its own line
scurl() {
  curl -sS --noproxy '*' -m 30 --aws-sigv4 "aws:amz:${SCURL_REGION:-us-east-1}:s3" \
    --user "${SCURL_KEY:-$S3_TEST_ACCESS_KEY}:${SCURL_SECRET:-$S3_TEST_SECRET}" \
    -w '\n%{http_code}' "$@"
}
# curl_code WHAT STATUS CODE OUTPUT: the answer has that status and S3 code
curl_code() {
  local st=${4##*$'\n'}
  if [ "$st" = "$2" ] && { [ -z "$3" ] || [[ $4 == *"<Code>$3</Code>"* ]]; }; then ok "$1"; else
    not_ok "$1 (want $2 $3)"; printf '%s\n' "$4" | head -5 | sed 's/^/#   /'; fi
}

# ------------------------------------------------------------ happy path
s3_mb bkt && ok "create-bucket" || not_ok "create-bucket"
printf 'hello s3\n' >"$T/small.txt"
s3_aws s3 cp --only-show-errors "$T/small.txt" s3://bkt/dir/small.txt &&
  s3_aws s3 cp --only-show-errors s3://bkt/dir/small.txt "$T/small.back" &&
  expect_file_eq "aws s3 cp up and down" "$T/small.back" "$T/small.txt" ||
  not_ok "aws s3 cp up and down"
mkdir -p "$T/list/sub"
for i in 1 2 3 4 5; do printf '%s\n' "$i" >"$T/list/k$i"; done
printf 'a\n' >"$T/list/sub/a"
s3_aws s3 cp --only-show-errors --recursive "$T/list" s3://bkt/list/ || not_ok "aws s3 cp --recursive"

# multipart through `aws s3 cp` (8 MiB parts): S3's ETag, bytes intact
head -c $((9 * 1024 * 1024 + 123)) /dev/urandom >"$T/big.bin"
s3_aws s3 cp --only-show-errors "$T/big.bin" s3://bkt/big.bin || not_ok "aws s3 cp multipart"
etag=$(s3_aws s3api head-object --bucket bkt --key big.bin --query ETag --output text)
want=$(python3 - "$T/big.bin" <<'PY'
import hashlib, sys
f = open(sys.argv[1], "rb"); d = b""; n = 0
while True:
    b = f.read(8 * 1024 * 1024)
    if not b: break
    d += hashlib.md5(b).digest(); n += 1
print('"%s-%d"' % (hashlib.md5(d).hexdigest(), n))
PY
)
expect_eq "multipart ETag is md5 of the part md5s + -N" "$etag" "$want"
s3_aws s3 cp --only-show-errors s3://bkt/big.bin "$T/big.back" &&
  cmp -s "$T/big.back" "$T/big.bin" && ok "multipart object reads back byte for byte" ||
  not_ok "multipart object reads back byte for byte"

# The s3api calls one by one, through botocore — the library inside
# Debian's aws CLI — in one process (an aws process per call costs a
# second each): listings and their pagination, Range, metadata, the
# multipart calls and S3's refusals of bad multipart uploads, presigned
# URLs, Content-MD5.  Prints ok/not ok lines.
PYTHONPATH=/usr/lib/python3/dist-packages/awscli /usr/bin/python3 - "$T" >"$T/boto.out" 2>&1 <<'PY'
import base64, hashlib, json, os, sys, urllib.error, urllib.request, zlib
import botocore.session as bs
from botocore.config import Config
from botocore.exceptions import ClientError
T = sys.argv[1]
env = os.environ
sess = bs.get_session()
def client(svc, ep):
    return sess.create_client(svc, region_name=env["S3_TEST_REGION"], endpoint_url=ep,
                              aws_access_key_id=env["S3_TEST_ACCESS_KEY"],
                              aws_secret_access_key=env["S3_TEST_SECRET"],
                              config=Config(retries={"max_attempts": 1, "mode": "standard"}))
s3 = client("s3", env["S3_TEST_DIRECT_ENDPOINT"])
def check(what, got, want):
    if got == want: print("ok - " + what)
    else: print("not ok - %s\n#   got:  %r\n#   want: %r" % (what, got, want))
def fails(what, code, fn, **kw):
    try:
        fn(**kw); print("not ok - %s (succeeded, want %s)" % (what, code))
    except ClientError as e:
        check(what, e.response["Error"]["Code"], code)
B = "bkt"
pages = s3.get_paginator("list_objects_v2").paginate(Bucket=B, Prefix="list/", PaginationConfig={"PageSize": 2})
pages = list(pages)
check("list-objects-v2 pages of 2 (continuation tokens)",
      [[o["Key"] for o in p.get("Contents", [])] for p in pages],
      [["list/k1", "list/k2"], ["list/k3", "list/k4"], ["list/k5", "list/sub/a"]])
r = s3.list_objects_v2(Bucket=B, Prefix="list/", Delimiter="/")
check("list-objects-v2 with a delimiter: keys + common prefixes",
      (r["KeyCount"], [o["Key"] for o in r["Contents"]], [p["Prefix"] for p in r["CommonPrefixes"]]),
      (6, ["list/k1", "list/k2", "list/k3", "list/k4", "list/k5"], ["list/sub/"]))
r = s3.list_objects(Bucket=B, Prefix="list/", MaxKeys=4)
check("list-objects (v1) truncates at MaxKeys", (len(r["Contents"]), r["IsTruncated"]), (4, True))
s3.put_object(Bucket=B, Key="dir/small.txt", Body=b"hello s3\n")
r = s3.get_object(Bucket=B, Key="dir/small.txt", Range="bytes=0-4")
check("get-object Range", (r["Body"].read(), r["ContentRange"], r["ResponseMetadata"]["HTTPStatusCode"]),
      (b"hello", "bytes 0-4/9", 206))
r = s3.get_object(Bucket=B, Key="dir/small.txt", Range="bytes=-3")
check("get-object suffix Range", r["Body"].read(), b"s3\n")
fails("get-object Range past the end: InvalidRange", "InvalidRange", s3.get_object, Bucket=B, Key="dir/small.txt", Range="bytes=100-")
fails("get of a missing key: NoSuchKey", "NoSuchKey", s3.get_object, Bucket=B, Key="nope")
fails("a missing bucket: NoSuchBucket", "NoSuchBucket", s3.list_objects_v2, Bucket="nobucket")
fails("create-bucket again: BucketAlreadyOwnedByYou", "BucketAlreadyOwnedByYou", s3.create_bucket, Bucket=B)
fails("an invalid bucket name: InvalidBucketName", "InvalidBucketName", s3.create_bucket, Bucket="No_Such")
s3.put_object(Bucket=B, Key="meta.txt", Body=b"m", Metadata={"job-id": "j1", "pipe": "p1"}, ContentType="text/csv")
r = s3.head_object(Bucket=B, Key="meta.txt")
check("x-amz-meta-* and Content-Type stored and returned", (r["Metadata"], r["ContentType"]),
      ({"job-id": "j1", "pipe": "p1"}, "text/csv"))
bad_md5 = base64.b64encode(hashlib.md5(b"x").digest()).decode()
fails("a bad Content-MD5: BadDigest", "BadDigest", s3.put_object, Bucket=B, Key="c/md5", Body=b"123456789", ContentMD5=bad_md5)
fails("a malformed Content-MD5: InvalidDigest", "InvalidDigest", s3.put_object, Bucket=B, Key="c/md5", Body=b"123456789", ContentMD5="notbase64")
ok_md5 = base64.b64encode(hashlib.md5(b"123456789").digest()).decode()
s3.put_object(Bucket=B, Key="c/md5", Body=b"123456789", ContentMD5=ok_md5)
print("ok - a right Content-MD5")

# multipart by hand
k1000, k5m = os.urandom(1000), os.urandom(5 * 1024 * 1024)
uid = s3.create_multipart_upload(Bucket=B, Key="mp/a")["UploadId"]
e = [s3.upload_part(Bucket=B, Key="mp/a", UploadId=uid, PartNumber=n, Body=k1000)["ETag"] for n in (1, 2, 3)]
check("upload-part ETag is the part's md5", e[0], '"%s"' % hashlib.md5(k1000).hexdigest())
r = s3.list_parts(Bucket=B, Key="mp/a", UploadId=uid)
check("list-parts sees 3 parts", [(p["PartNumber"], p["Size"]) for p in r["Parts"]], [(1, 1000), (2, 1000), (3, 1000)])
r = s3.list_parts(Bucket=B, Key="mp/a", UploadId=uid, MaxParts=2)
check("list-parts truncates at MaxParts", (len(r["Parts"]), r["IsTruncated"], r["NextPartNumberMarker"]), (2, True, 2))
r = s3.list_parts(Bucket=B, Key="mp/a", UploadId=uid, PartNumberMarker=2)
check("list-parts from a marker", [p["PartNumber"] for p in r["Parts"]], [3])
uid2 = s3.create_multipart_upload(Bucket=B, Key="mp/z")["UploadId"]
r = s3.list_multipart_uploads(Bucket=B)
check("list-multipart-uploads sees both uploads", sorted((u["Key"], u["UploadId"]) for u in r["Uploads"]),
      sorted([("mp/a", uid), ("mp/z", uid2)]))
r = s3.list_multipart_uploads(Bucket=B, MaxUploads=1)
check("list-multipart-uploads truncates at MaxUploads", (len(r["Uploads"]), r["IsTruncated"], r["NextKeyMarker"]), (1, True, "mp/a"))
mp = lambda *ps: {"Parts": [{"PartNumber": n, "ETag": t} for n, t in ps]}
fails("complete with a 1000-byte non-last part: EntityTooSmall", "EntityTooSmall", s3.complete_multipart_upload,
      Bucket=B, Key="mp/a", UploadId=uid, MultipartUpload=mp((1, e[0]), (2, e[1])))
fails("complete with a wrong part ETag: InvalidPart", "InvalidPart", s3.complete_multipart_upload,
      Bucket=B, Key="mp/a", UploadId=uid, MultipartUpload=mp((1, '"0123456789abcdef0123456789abcdef"')))
fails("complete with a part never uploaded: InvalidPart", "InvalidPart", s3.complete_multipart_upload,
      Bucket=B, Key="mp/a", UploadId=uid, MultipartUpload=mp((1, e[0]), (7, e[0])))
fails("complete with parts out of order: InvalidPartOrder", "InvalidPartOrder", s3.complete_multipart_upload,
      Bucket=B, Key="mp/a", UploadId=uid, MultipartUpload=mp((2, e[1]), (1, e[0])))
fails("complete with no parts: MalformedXML", "MalformedXML", s3.complete_multipart_upload,
      Bucket=B, Key="mp/a", UploadId=uid, MultipartUpload={"Parts": []})
fails("upload-part number 10001: InvalidArgument", "InvalidArgument", s3.upload_part,
      Bucket=B, Key="mp/a", UploadId=uid, PartNumber=10001, Body=b"x")
fails("upload-part to another key's upload: NoSuchUpload", "NoSuchUpload", s3.upload_part,
      Bucket=B, Key="mp/other", UploadId=uid, PartNumber=1, Body=b"x")
s3.abort_multipart_upload(Bucket=B, Key="mp/a", UploadId=uid)
s3.abort_multipart_upload(Bucket=B, Key="mp/z", UploadId=uid2)
check("abort-multipart-upload leaves no upload open", s3.list_multipart_uploads(Bucket=B).get("Uploads", []), [])
fails("upload-part after abort: NoSuchUpload", "NoSuchUpload", s3.upload_part,
      Bucket=B, Key="mp/a", UploadId=uid, PartNumber=4, Body=k1000)
fails("abort again: NoSuchUpload", "NoSuchUpload", s3.abort_multipart_upload, Bucket=B, Key="mp/a", UploadId=uid)
check("an aborted upload left no object", s3.list_objects_v2(Bucket=B, Prefix="mp/a").get("KeyCount"), 0)
# a proper upload: 5 MiB + 1000 bytes, part 1 uploaded twice (the last one counts)
uid = s3.create_multipart_upload(Bucket=B, Key="mp/b", Metadata={"pipe": "p2"})["UploadId"]
s3.upload_part(Bucket=B, Key="mp/b", UploadId=uid, PartNumber=1, Body=k1000)
e1 = s3.upload_part(Bucket=B, Key="mp/b", UploadId=uid, PartNumber=1, Body=k5m)["ETag"]
e2 = s3.upload_part(Bucket=B, Key="mp/b", UploadId=uid, PartNumber=2, Body=k1000)["ETag"]
r = s3.complete_multipart_upload(Bucket=B, Key="mp/b", UploadId=uid, MultipartUpload=mp((1, e1), (2, e2)))
want = '"%s-2"' % hashlib.md5(hashlib.md5(k5m).digest() + hashlib.md5(k1000).digest()).hexdigest()
check("complete 5 MiB + 1000 B parts: S3's ETag", r["ETag"], want)
r = s3.get_object(Bucket=B, Key="mp/b")
check("the completed object: bytes, metadata of the upload, parts count",
      (r["Body"].read() == k5m + k1000, r["Metadata"], r["ETag"]), (True, {"pipe": "p2"}, want))
check("a completed upload is gone", s3.list_multipart_uploads(Bucket=B).get("Uploads", []), [])
# an upload for If-None-Match on complete (finished by curl below)
uid = s3.create_multipart_upload(Bucket=B, Key="c/new")["UploadId"]
e1 = s3.upload_part(Bucket=B, Key="c/new", UploadId=uid, PartNumber=1, Body=k1000)["ETag"]
open(T + "/inm", "w").write("%s %s\n" % (uid, e1))
# flexible checksums (botocore computes them; sent as headers over http)
nine = b"123456789"
want = {"CRC32": base64.b64encode(zlib.crc32(nine).to_bytes(4, "big")).decode(),
        "CRC32C": "4waSgw==",   # the CRC-32C check value of "123456789", 0xE3069283
        "SHA1": base64.b64encode(hashlib.sha1(nine).digest()).decode(),
        "SHA256": base64.b64encode(hashlib.sha256(nine).digest()).decode()}
for alg, v in want.items():
    r = s3.put_object(Bucket=B, Key="ck/" + alg, Body=nine, ChecksumAlgorithm=alg)
    check("x-amz-checksum-%s verified and echoed" % alg.lower(), r.get("Checksum" + alg), v)
r = s3.get_object(Bucket=B, Key="ck/CRC32C", ChecksumMode="ENABLED")
check("get-object returns the stored checksum", (r.get("ChecksumCRC32C"), r["Body"].read()), ("4waSgw==", nine))
uid = s3.create_multipart_upload(Bucket=B, Key="ck/mp", ChecksumAlgorithm="CRC32C")["UploadId"]
r1 = s3.upload_part(Bucket=B, Key="ck/mp", UploadId=uid, PartNumber=1, Body=k5m, ChecksumAlgorithm="CRC32C")
r2 = s3.upload_part(Bucket=B, Key="ck/mp", UploadId=uid, PartNumber=2, Body=nine, ChecksumAlgorithm="CRC32C")
check("a part's CRC-32C", r2.get("ChecksumCRC32C"), "4waSgw==")
fails("a part without the upload's checksum: InvalidRequest", "InvalidRequest", s3.upload_part,
      Bucket=B, Key="ck/mp", UploadId=uid, PartNumber=3, Body=nine)
parts = lambda c2: {"Parts": [{"PartNumber": 1, "ETag": r1["ETag"], "ChecksumCRC32C": r1["ChecksumCRC32C"]},
                              {"PartNumber": 2, "ETag": r2["ETag"], "ChecksumCRC32C": c2}]}
fails("complete with a wrong part checksum: InvalidPart", "InvalidPart", s3.complete_multipart_upload,
      Bucket=B, Key="ck/mp", UploadId=uid, MultipartUpload=parts("AAAAAA=="))
r = s3.complete_multipart_upload(Bucket=B, Key="ck/mp", UploadId=uid, MultipartUpload=parts("4waSgw=="))
h = s3.head_object(Bucket=B, Key="ck/mp", ChecksumMode="ENABLED")
check("a multipart object's checksum is the checksum of its parts' checksums, -N",
      (r.get("ChecksumCRC32C", "").endswith("-2"), h.get("ChecksumCRC32C") == r.get("ChecksumCRC32C")), (True, True))
# presigned URLs
url = s3.generate_presigned_url("get_object", Params={"Bucket": B, "Key": "dir/small.txt"}, ExpiresIn=60)
def status(u, headers={}):
    try:
        return urllib.request.urlopen(urllib.request.Request(u, headers=headers)).status
    except urllib.error.HTTPError as e:
        return e.code
check("presigned GET works", status(url), 200)
check("tampered presigned URL refused", status(url.replace("small.txt", "other.txt")), 403)
check("an x-amz-* header the signature does not cover: refused", status(url, {"x-amz-meta-extra": "1"}), 403)
PY
cat "$T/boto.out"
grep -qF 'the signature does not cover: refused' "$T/boto.out" || not_ok "the botocore checks ran to the end"
grep -q '^not ok' "$T/boto.out" && E2E_FAILED=1

# curl --aws-sigv4: an independent signer (with the payload hash header it
# does not add by itself)
printf 123456789 >"$T/nine"
H9=$(sha "$T/nine")
curl_code "curl --aws-sigv4 PUT" 200 "" "$(scurl -H "x-amz-content-sha256: $H9" -T "$T/nine" "$EP/bkt/c/nine")"
curl_code "virtual-hosted style GET (bkt.localhost)" 200 "" \
  "$(scurl -H "x-amz-content-sha256: $EMPTY" "http://bkt.localhost:${EP##*:}/c/nine")"
curl_code "x-amz-checksum-crc32c verified (right value)" 200 "" \
  "$(scurl -H "x-amz-content-sha256: $H9" -H 'x-amz-checksum-crc32c: 4waSgw==' -T "$T/nine" "$EP/bkt/c/crc")"
curl_code "x-amz-checksum-crc32c wrong: BadDigest" 400 BadDigest \
  "$(scurl -H "x-amz-content-sha256: $H9" -H 'x-amz-checksum-crc32c: AAAAAA==' -T "$T/nine" "$EP/bkt/c/crc2")"
curl_code "x-amz-checksum-crc32 wrong: BadDigest" 400 BadDigest \
  "$(scurl -H "x-amz-content-sha256: $H9" -H 'x-amz-checksum-crc32: y/Q5Jw==' -T "$T/nine" "$EP/bkt/c/crc3")"
curl_code "x-amz-checksum-crc32 right" 200 "" \
  "$(scurl -H "x-amz-content-sha256: $H9" -H 'x-amz-checksum-crc32: y/Q5Jg==' -T "$T/nine" "$EP/bkt/c/crc3")"
curl_code "If-None-Match: * on a new key" 200 "" \
  "$(scurl -H "x-amz-content-sha256: $H9" -H 'If-None-Match: *' -T "$T/nine" "$EP/bkt/c/new")"
curl_code "If-None-Match: * on an existing key: PreconditionFailed" 412 PreconditionFailed \
  "$(scurl -H "x-amz-content-sha256: $H9" -H 'If-None-Match: *' -T "$T/nine" "$EP/bkt/c/new")"
# If-None-Match on CompleteMultipartUpload
uid=none e1=none; [ -f "$T/inm" ] && read -r uid e1 <"$T/inm"
cx="<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>$e1</ETag></Part></CompleteMultipartUpload>"
printf '%s' "$cx" >"$T/cx.xml"
curl_code "If-None-Match: * on CompleteMultipartUpload of an existing key: PreconditionFailed" 412 PreconditionFailed \
  "$(scurl -X POST -H "x-amz-content-sha256: $(sha "$T/cx.xml")" -H 'If-None-Match: *' \
     --data-binary @"$T/cx.xml" "$EP/bkt/c/new?uploadId=$uid")"
curl_code "AbortMultipartUpload with curl" 204 "" "$(scurl -X DELETE -H "x-amz-content-sha256: $EMPTY" "$EP/bkt/c/new?uploadId=$uid")"
expect_eq "no upload left open" "$(s3_open_uploads bkt)" 0

# ------------------------------------------------------------ AWS's examples
# AWS's published SigV4 examples (GET/PUT Object, lifecycle, list, and the
# chunked STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload) verify on a second
# server whose clock is 2013-05-24 (faketime); altered, they are refused.
if command -v faketime >/dev/null 2>&1; then
  mkdir -p "$T/ex"
  # faketime runs the server as its child: both in a process group of their
  # own (setsid), stopped together, also when the test ends early
  setsid faketime -f "@2013-05-24 00:00:05" "$(s3__python)" "$E2E_ROOT/tests/harness/s3_server.py" \
    --dir "$T/ex" --cred AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY \
    --bucket examplebucket --vhost-suffix s3.amazonaws.com >"$T/ex.out" 2>"$T/ex.out.err" &
  ex_pid=$!
  ex_prev=$(trap -p EXIT)
  if [ -n "$ex_prev" ]; then eval "set -- $ex_prev"; ex_prev=$3; fi
  trap "kill -- -$ex_pid 2>/dev/null; $ex_prev" EXIT
  if line=$(s3__wait_ready "$T/ex.out" "$ex_pid" "s3_server under faketime"); then
    got=$("$(s3__python)" "$E2E_ROOT/tests/harness/s3_aws_examples.py" "$(s3__field "$line" s3_port)" 2>&1)
    expect_eq "AWS's SigV4 examples verify; altered, they are refused" "$got" "PUT Object 200 -
GET Object 404 NoSuchKey
GET Bucket Lifecycle 501 NotImplemented
GET Bucket (List Objects) 200 -
PUT Object, chunked 200 -
altered PUT Object 400 XAmzContentSHA256Mismatch
altered GET Object 403 SignatureDoesNotMatch
altered GET Bucket Lifecycle 403 SignatureDoesNotMatch
altered GET Bucket (List Objects) 403 SignatureDoesNotMatch
altered PUT Object, chunked 403 SignatureDoesNotMatch"
  else
    not_ok "s3_server starts under faketime"
  fi
  kill -- -"$ex_pid" 2>/dev/null; wait "$ex_pid" 2>/dev/null
  trap "$ex_prev" EXIT
else
  not_ok "faketime is installed (scripts/setup.sh)"
fi

# ------------------------------------------------------------ refusals
S3_AWS_SECRET=wrong-secret aws_fails "a wrong secret: SignatureDoesNotMatch" SignatureDoesNotMatch s3 ls s3://bkt/
S3_AWS_KEY=AKIAUNKNOWN000000000 aws_fails "an unknown key: InvalidAccessKeyId" InvalidAccessKeyId s3 ls s3://bkt/
curl_code "an unsigned GET: AccessDenied" 403 AccessDenied "$(curl -sS -w '\n%{http_code}' "$EP/bkt/dir/small.txt")"
curl_code "an unsigned PUT: AccessDenied" 403 AccessDenied "$(curl -sS -w '\n%{http_code}' -T "$T/nine" "$EP/bkt/c/unsigned")"
curl_code "no x-amz-content-sha256: InvalidRequest" 400 InvalidRequest "$(scurl "$EP/bkt/c/nine")"
curl_code "a tampered payload hash: XAmzContentSHA256Mismatch" 400 XAmzContentSHA256Mismatch \
  "$(scurl -H "x-amz-content-sha256: $(sha "$T/small.txt")" -T "$T/nine" "$EP/bkt/c/tampered")"
head -c $((2 * 1024 * 1024)) /dev/urandom >"$T/two"
curl_code "a tampered payload hash on a 2 MiB body (Expect: 100-continue)" 400 XAmzContentSHA256Mismatch \
  "$(scurl -H "x-amz-content-sha256: $H9" -T "$T/two" "$EP/bkt/c/tampered2")"
curl_code "a wrong secret on a 2 MiB body: refused before the body" 403 SignatureDoesNotMatch \
  "$(SCURL_SECRET=bad scurl -H "x-amz-content-sha256: $(sha "$T/two")" -T "$T/two" "$EP/bkt/c/two")"
out=$(SCURL_REGION=eu-west-1 scurl -H "x-amz-content-sha256: $EMPTY" "$EP/bkt/c/nine")
curl_code "a wrong region: AuthorizationHeaderMalformed" 400 AuthorizationHeaderMalformed "$out"
expect_contains "the error names the expected region" "$out" "expecting 'us-east-1'"
# a skewed clock: aws itself under libfaketime (curl 7.88 signs with its
# own clock whatever x-amz-date header it is given)
if command -v faketime >/dev/null 2>&1; then
  S3_AWS_WRAP="faketime -f -20m" aws_fails "a clock 20 minutes behind: RequestTimeTooSkewed" \
    RequestTimeTooSkewed s3api list-objects-v2 --bucket bkt --max-keys 1
  out=$(S3_AWS_WRAP="faketime -f +10m" s3_aws s3 cp s3://bkt/c/nine - 2>&1)
  expect_eq "a clock 10 minutes ahead is within S3's 15" "$out" 123456789
else
  not_ok "faketime is installed (scripts/setup.sh)"
fi
url=$(s3_aws s3 presign s3://bkt/c/nine --expires-in 60)
curl_code "an x-amz-* header the signature does not cover: AccessDenied" 403 AccessDenied \
  "$(curl -sS -w '\n%{http_code}' -H 'x-amz-meta-extra: 1' "$url")"
aws_fails "a bad Content-MD5: BadDigest" BadDigest \
  s3api put-object --bucket bkt --key c/md5 --body "$T/nine" --content-md5 "$(python3 -c 'import base64,hashlib; print(base64.b64encode(hashlib.md5(b"x").digest()).decode())')"
aws_fails "a malformed Content-MD5: InvalidDigest" InvalidDigest \
  s3api put-object --bucket bkt --key c/md5 --body "$T/nine" --content-md5 notbase64
curl_code "a read-only key writing: AccessDenied" 403 AccessDenied \
  "$(SCURL_KEY=$S3_TEST_RO_ACCESS_KEY SCURL_SECRET=$S3_TEST_RO_SECRET scurl -H "x-amz-content-sha256: $H9" -T "$T/nine" "$EP/bkt/c/ro")"
curl_code "a read-only key reads" 200 "" \
  "$(SCURL_KEY=$S3_TEST_RO_ACCESS_KEY SCURL_SECRET=$S3_TEST_RO_SECRET scurl -H "x-amz-content-sha256: $EMPTY" "$EP/bkt/c/nine")"

# ------------------------------------------------------------ STS
# stscurl FORM...: a signed AssumeRole POST (curl --aws-sigv4, service sts)
stscurl() {
  local form="Action=AssumeRole&Version=2011-06-15" a
  for a in "$@"; do form+="&$a"; done
  curl -sS --noproxy '*' -m 30 --aws-sigv4 "aws:amz:us-east-1:sts" \
    --user "${SCURL_KEY:-$S3_TEST_ACCESS_KEY}:${SCURL_SECRET:-$S3_TEST_SECRET}" \
    -w '\n%{http_code}' --data "$form" "$S3_TEST_STS_ENDPOINT/"
}
aws_fails "assume a denied role: AccessDenied" AccessDenied \
  sts assume-role --role-arn "$S3_TEST_DENIED_ROLE_ARN" --role-session-name t1
curl_code "assume a role without its external id: AccessDenied" 403 AccessDenied \
  "$(stscurl "RoleArn=$S3_TEST_EXT_ROLE_ARN" RoleSessionName=t1)"
curl_code "assume a role with a wrong external id: AccessDenied" 403 AccessDenied \
  "$(stscurl "RoleArn=$S3_TEST_EXT_ROLE_ARN" RoleSessionName=t1 ExternalId=nope)"
curl_code "assume a role with its external id" 200 "" \
  "$(stscurl "RoleArn=$S3_TEST_EXT_ROLE_ARN" RoleSessionName=t1 "ExternalId=$S3_TEST_EXTERNAL_ID")"
curl_code "AssumeRole with a wrong secret: SignatureDoesNotMatch" 403 SignatureDoesNotMatch \
  "$(SCURL_SECRET=wrong stscurl "RoleArn=$S3_TEST_ROLE_ARN" RoleSessionName=t1)"
curl_code "AssumeRole unsigned: MissingAuthenticationToken" 403 MissingAuthenticationToken \
  "$(curl -sS -w '\n%{http_code}' --data "Action=AssumeRole&Version=2011-06-15&RoleArn=$S3_TEST_ROLE_ARN&RoleSessionName=t1" "$S3_TEST_STS_ENDPOINT/")"
# --sts-lifetime 3: the credentials live 3 seconds
s3_aws sts assume-role --role-arn "$S3_TEST_ROLE_ARN" --role-session-name e2e-session \
  --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken,Expiration]' --output text >"$T/creds" ||
  not_ok "assume-role"
read -r AK SK TOK EXP <"$T/creds"
tmpcurl() { SCURL_KEY=$AK SCURL_SECRET=$SK scurl -H "x-amz-content-sha256: $EMPTY" "$@" "$EP/bkt/c/nine"; }
curl_code "temporary credentials work with their session token" 200 "" "$(tmpcurl -H "x-amz-security-token: $TOK")"
expect_eq "the server saw the role session" \
  "$(python3 -c 'import json,sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get("cred") == "sts:e2e-session"))' "$S3_TEST_LOG")" 1
curl_code "temporary credentials without the token: InvalidAccessKeyId" 403 InvalidAccessKeyId "$(tmpcurl)"
curl_code "a wrong session token: InvalidToken" 400 InvalidToken "$(tmpcurl -H "x-amz-security-token: ${TOK}x")"
exp_s=$(date -u -d "$EXP" +%s)
deadline=$((exp_s + 10))
while [ "$(date +%s)" -le "$exp_s" ] && [ "$(date +%s)" -lt "$deadline" ]; do
  sleep 0.2  # waiting for the credentials' Expiration, a condition with a deadline
done
S3_AWS_KEY=$AK S3_AWS_SECRET=$SK S3_AWS_TOKEN=$TOK aws_fails "expired temporary credentials (aws): ExpiredToken" \
  ExpiredToken s3 ls s3://bkt/

# ------------------------------------------------------------ proxy faults
PX=$S3_TEST_ENDPOINT
pxaws() { s3_aws --endpoint-url "$PX" "$@"; }
# pxput KEY FILE / pxget KEY: through the proxy with curl
pxput() { scurl -H "x-amz-content-sha256: $(sha "$2")" -T "$2" "$PX/bkt/$1"; }
pxget() { scurl -H "x-amz-content-sha256: $EMPTY" "$PX/bkt/$1"; }
s3_fault put500 method=PUT match=/bkt/f/a action=500 || not_ok "add rule put500"
curl_code "an injected 500 InternalError reaches the client" 500 InternalError "$(pxput f/a "$T/nine")"
expect_eq "the 500 rule fired once" "$(s3_fault_count put500)" 1
curl_code "the next matching request goes through" 200 "" "$(pxput f/a "$T/nine")"
expect_eq "the 500 rule fired once and saw two requests" "$(s3_fault_count put500) $(s3_fault_seen put500)" "1 2"
s3_fault slow method=PUT match=/bkt/f/b action=503 || not_ok "add rule slow"
S3_AWS_MAX_ATTEMPTS=3 pxaws s3api put-object --bucket bkt --key f/b --body "$T/nine" >/dev/null ||
  not_ok "aws retries a 503 SlowDown"
expect_eq "503 SlowDown fired once, aws retried, the object is there" \
  "$(s3_fault_count slow) $(s3_fault_seen slow) $(pxget f/b | head -1)" "1 2 123456789"
s3_fault second method=GET match=/bkt/c/nine nth=2 times=2 action=503 || not_ok "add rule second"
codes=
for i in 1 2 3 4; do out=$(pxget c/nine); codes+="${out##*$'\n'} "; done
expect_eq "nth=2 times=2 fires on the 2nd and 3rd match" "$codes" "200 503 503 200 "
s3_fault drop method=GET match=/bkt/c/nine action=drop || not_ok "add rule drop"
pxget c/nine >/dev/null 2>&1 && not_ok "a dropped connection fails the read" ||
  ok "a dropped connection fails the read"
expect_eq "the drop rule fired" "$(s3_fault_count drop)" 1
s3_fault stall method=HEAD match=/bkt/c/nine action=stall secs=3 || not_ok "add rule stall"
out=$(pxaws --cli-read-timeout 1 s3api head-object --bucket bkt --key c/nine 2>&1) &&
  not_ok "a stalled request times out" || expect_contains "a stalled request times out" "$out" "timeout"
expect_eq "the stall rule fired" "$(s3_fault_count stall)" 1
s3_fault skew method=GET match=/bkt/c/nine action=skew || not_ok "add rule skew"
curl_code "an injected RequestTimeTooSkewed reaches the client" 403 RequestTimeTooSkewed "$(pxget c/nine)"
s3_fault midbody method=PUT match=/bkt/f/c action=drop-body || not_ok "add rule midbody"
pxput f/c "$T/two" >/dev/null 2>&1 && not_ok "a connection dropped mid-body fails the PUT" ||
  ok "a connection dropped mid-body fails the PUT"
curl_code "and the server stored nothing" 404 NoSuchKey "$(scurl -H "x-amz-content-sha256: $EMPTY" "$EP/bkt/f/c")"
s3_fault after method=PUT match=/bkt/f/d action=drop-after || not_ok "add rule after"
pxput f/d "$T/nine" >/dev/null 2>&1 && not_ok "drop-after: the client sees a failure" ||
  ok "drop-after: the client sees a failure"
curl_code "drop-after: yet the server stored the object" 200 "" "$(scurl -H "x-amz-content-sha256: $EMPTY" "$EP/bkt/f/d")"
s3_fault half method=GET match=/bkt/big.bin action=drop-response || not_ok "add rule half"
curl -sS -o /dev/null --aws-sigv4 aws:amz:us-east-1:s3 --user "$S3_TEST_ACCESS_KEY:$S3_TEST_SECRET" \
  -H "x-amz-content-sha256: $EMPTY" "$PX/bkt/big.bin" 2>/dev/null &&
  not_ok "drop-response: a body cut in half fails the read" || ok "drop-response: a body cut in half fails the read"
expect_eq "proxied requests without rules pass through" "$(pxaws s3 cp s3://bkt/c/nine - 2>&1)" 123456789
s3_fault_clear && ok "rules cleared" || not_ok "rules cleared"
finish
