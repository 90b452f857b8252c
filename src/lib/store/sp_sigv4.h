/* sp_sigv4: AWS Signature Version 4 (header-based), our own small signer.
 *
 * Why not libcurl's CURLOPT_AWS_SIGV4: in 7.88 it does not add
 * x-amz-content-sha256, signs header-removal lines ("Expect:") as empty
 * headers that are never sent, canonicalizes a bare "?uploads" as "uploads"
 * instead of "uploads=", and neither sorts nor encodes query parameters.
 * Here the caller hands the request's parts and sends exactly what was
 * signed: the URL's path and query are built with sp_sigv4_encode /
 * sp_sigv4_query, the headers are the ones passed in.
 *
 * Canonicalisation (docs: "Create a canonical request"):
 *   path     URI-encoded once, '/' kept (S3 rules: no normalisation of
 *            "." / ".." / "//" segments — object keys may hold them)
 *   query    each name and value URI-encoded, sorted by name then value,
 *            "name=value" joined by '&' (a bare "uploads" is "uploads=")
 *   headers  names lowercased and sorted; values trimmed with inner runs
 *            of spaces collapsed; repeated names joined by ',' in order
 *   payload  hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
 *
 * Proven against AWS's published test vectors and S3's examples
 * (tests/unit/test_sigv4.c, tests/fixtures/sigv4/). */
#ifndef SP_SIGV4_H
#define SP_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "sp_buf.h"

#define SP_SHA256_HEX_LEN 64
#define SP_SIGV4_EMPTY_SHA256 \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

typedef struct sp_sigv4_kv {
    const char *name;
    const char *value; /* NULL = "" */
} sp_sigv4_kv;

typedef struct sp_sigv4_req {
    const char *method;         /* "GET", "PUT", ... */
    const char *path;           /* raw (not encoded) absolute path, "/" at least */
    const sp_sigv4_kv *query;   /* raw (not encoded) parameters, any order */
    size_t nquery;
    const sp_sigv4_kv *headers; /* every header to sign, as sent (host,
                                 * x-amz-date, x-amz-content-sha256,
                                 * x-amz-security-token...), any order/case */
    size_t nheaders;
    const char *payload_hash;   /* hex SHA-256 or "UNSIGNED-PAYLOAD" */
    const char *access_key;
    const char *secret_key;
    const char *region;         /* "us-east-1" */
    const char *service;        /* "s3", "sts" */
    int64_t time;               /* UTC seconds: the x-amz-date header's time */
} sp_sigv4_req;

/* Intermediate texts, for tests and debugging (never logged: the canonical
 * request holds header values such as a session token). */
typedef struct sp_sigv4_debug {
    sp_buf creq; /* canonical request */
    sp_buf sts;  /* string to sign */
} sp_sigv4_debug;

/* sp_sigv4_sign: append the Authorization header value
 *   AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/service/aws4_request,
 *   SignedHeaders=host;x-amz-date, Signature=<64 hex>
 * to `auth`.  dbg may be NULL (else both buffers are appended to).  Nothing
 * is kept; inputs are not modified.  0, SP_ENOMEM, SP_ETOOBIG or SP_EINVAL
 * (a missing field). */
int sp_sigv4_sign(const sp_sigv4_req *r, sp_buf *auth, sp_sigv4_debug *dbg,
                  sp_error *err);

/* sp_sigv4_encode: append s[0..n) URI-encoded the SigV4 way (unreserved
 * A-Z a-z 0-9 - _ . ~ kept, everything else %XX upper-case); '/' is kept when
 * keep_slash (paths), encoded otherwise (query names and values). */
int sp_sigv4_encode(sp_buf *out, const char *s, size_t n, int keep_slash,
                    sp_error *err);

/* sp_sigv4_query: append the canonical query string of q[0..n) (sorted,
 * encoded, "a=1&b="); send it as the URL's query so that what is signed is
 * what is sent. */
int sp_sigv4_query(sp_buf *out, const sp_sigv4_kv *q, size_t n, sp_error *err);

/* sp_sigv4_amzdate: "20150830T123600Z" for t (UTC seconds) into out[17]. */
void sp_sigv4_amzdate(int64_t t, char out[17]);

/* sp_sha256_hex: hex SHA-256 of data[0..n) into out[65] (NUL-terminated). */
void sp_sha256_hex(const void *data, size_t n, char out[SP_SHA256_HEX_LEN + 1]);

/* sp_hex: lower-case hex of b[0..n) into out[2n+1]. */
void sp_hex(const unsigned char *b, size_t n, char *out);

#endif
