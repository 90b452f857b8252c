/* sp_s3: a small S3 client on libcurl — requests signed by sp_sigv4,
 * retries with backoff, S3 XML errors, the credentials chain and STS
 * AssumeRole.  See docs/s3.md for the user-facing rules.
 *
 * One sp_s3 per connection and bucket; it is thread-safe (credentials and
 * the clock offset sit behind a mutex).  Connections are sp_s3_handle's
 * (sp_curlx handles): one per thread, each a curl easy handle that keeps its
 * connection alive between requests.
 *
 * Errors are one line naming the connection and the object, and what S3
 * (or STS) said, e.g.
 *   connection 'data_warehouse': s3://data-warehouse/a.csv: AccessDenied: Access Denied
 * They never hold a secret: access keys are not secrets, but secret keys,
 * session tokens and signatures never enter a message. */
#ifndef SP_S3_H
#define SP_S3_H

#include <stddef.h>
#include <stdint.h>

#include "sp_buf.h"
#include "sp_env.h"
#include "sp_sigv4.h"

typedef struct sp_s3 sp_s3;
/* a connection: sp_curlx_handle_new / sp_curlx_handle_free (sp_curlx.h) */
typedef struct sp_curlx_handle sp_s3_handle;

/* Where a client's settings come from.  Strings are copied by sp_s3_open;
 * NULL or "" means unset. */
typedef struct sp_s3_conf {
    const char *conn_name;    /* for messages */
    const char *bucket;
    const char *region;       /* S3_REGION */
    const char *endpoint;     /* S3_ENDPOINT (else AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL) */
    const char *path_style;   /* S3_PATH_STYLE "true"/"false"; NULL: path style
                               * for custom endpoints, virtual hosts on AWS */
    const char *access_key;   /* S3_ACCESS_KEY */
    const char *secret;       /* S3_SECRET */
    const char *role_arn;     /* S3_ARN */
    const char *external_id;  /* S3_EXTERNAL_ID */
    const char *sts_endpoint; /* S3_STS_ENDPOINT (else AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL) */
    const char *session_name; /* RoleSessionName; default "sinkpipe-<conn>" */
    const sp_env *env;        /* the AWS_* chain, HOME; may be NULL (none) */
    const char *uri_scheme;   /* of URIs in messages: "s3" (default), "gs" (GCS's
                               * XML API with HMAC keys) */
    /* tuning (0 = default) */
    int max_attempts;         /* per request, default 6 */
    int retry_base_ms;        /* first backoff, default 200 */
    int retry_cap_ms;         /* backoff ceiling, default 10000 */
    int stall_ms;             /* no byte moving for this long = timeout, default 30000 */
    int connect_ms;           /* connect timeout, default 10000 */
    int role_seconds;         /* DurationSeconds of AssumeRole, default 3600 */
    int refresh_margin_s;     /* refresh temporary credentials this long
                               * before they expire, default 300 */
    struct sp_s3_where *where; /* out, may be NULL: what a definition error
                                * of sp_s3_open is about (for `check`) */
} sp_s3_conf;

/* What a definition error of sp_s3_open is about: the key (static text,
 * NULL when none), and where in the message "connection 'x': KEY 'v': …"
 * its parts start: after the connection (head), after the key (reason). */
typedef struct sp_s3_where {
    const char *key;
    size_t head, reason;
} sp_s3_where;

/* sp_s3_open: validate the settings and make a client (no network yet).
 * SP_EDEF naming the connection for a missing region or a bad endpoint URL. */
int sp_s3_open(const sp_s3_conf *c, sp_s3 **out, sp_error *err);
void sp_s3_free(sp_s3 *s);

/* One request.  Inputs are borrowed for the call. */
typedef struct sp_s3_req {
    const char *method;         /* "GET", "HEAD", "PUT", "POST", "DELETE" */
    const char *key;            /* object key, or NULL for the bucket */
    const sp_sigv4_kv *query;   /* raw parameters ("uploads" with NULL value) */
    size_t nquery;
    const sp_sigv4_kv *headers; /* extra headers, sent and signed */
    size_t nheaders;
    const void *body;           /* NULL with len 0: no body */
    size_t len;
    int content_md5;            /* send Content-MD5 of the body */
    sp_buf *resp;               /* response body, or NULL to discard it */
    atomic_int *cancel;       /* may be NULL (borrowed): once raised, no attempt
                                 * starts, the transfer in progress stops and
                                 * the request fails with SP_ECANCELLED */
    /* results */
    long status;                /* last HTTP status (0: no response) */
    char etag[128];             /* ETag response header, quotes kept */
    uint64_t content_length;    /* Content-Length response header */
    char code[64];              /* S3 error code of a failure ("NoSuchKey") */
    int attempts;               /* requests sent (> 1: retried; an earlier
                                 * attempt may have taken effect) */
} sp_s3_req;

/* sp_s3_do: send r (with retries: timeouts, resets, 500, 502, 503, 504,
 * RequestTimeout, RequestTimeTooSkewed — the clock offset is corrected
 * from the server's Date), and fill r's results.  0 on a 2xx answer (a 200
 * whose body is an <Error> is a failure, as CompleteMultipartUpload may
 * send).  Otherwise: SP_EAUTH (403, bad credentials), SP_ENOTFOUND (404),
 * SP_EEXIST (412 PreconditionFailed), SP_ENET (gave up on a network error,
 * retriable; a stall — no byte moving either way for stall_ms — is a
 * timeout), SP_ECANCELLED (*r->cancel raised), SP_ESINK (other), with the
 * message naming "connection 'c': s3://bucket/key". */
int sp_s3_do(sp_s3 *s, sp_s3_handle *h, sp_s3_req *r, sp_error *err);

/* sp_s3_conn_name: the connection name given to sp_s3_open (owned by s). */
const char *sp_s3_conn_name(const sp_s3 *s);

/* sp_s3_uri: "s3://bucket/key" (or the conf's uri_scheme) into buf
 * (truncated to fit). */
void sp_s3_uri(const sp_s3 *s, const char *key, char *buf, size_t bufsz);

/* sp_s3_credentials_source: which source the base credentials come from
 * ("connection", "environment", "shared file 'path' profile 'p'") — tests. */
int sp_s3_credentials_source(sp_s3 *s, char *buf, size_t bufsz, sp_error *err);

/* sp_s3_access_key: the access key id currently used for signing (after
 * AssumeRole, the temporary one) — tests.  0 or an error. */
int sp_s3_access_key(sp_s3 *s, char *buf, size_t bufsz, sp_error *err);

/* sp_s3_xml_text: the text of the first element named `name` in xml[0..n)
 * into out (truncated to outsz).  1 when found, 0 when not (or bad XML). */
int sp_s3_xml_text(const char *xml, size_t n, const char *name, char *out,
                   size_t outsz);

/* sp_md5_base64: base64 of the MD5 of data[0..n) into out[25]. */
void sp_md5_base64(const void *data, size_t n, char out[25]);

#endif
