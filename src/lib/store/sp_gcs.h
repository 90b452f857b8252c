/* sp_gcs: a small Google Cloud Storage client on libcurl — the JSON API
 * with OAuth2 bearer tokens from a service-account key (the JWT-bearer
 * grant, RS256 signed with OpenSSL), retries with backoff, GCS JSON
 * errors.  See docs/gcs.md for the user-facing rules.
 *
 * One sp_gcs per connection and bucket; it is thread-safe (the token cache
 * sits behind a mutex; one refresh at a time).  Connections are
 * sp_gcs_handle's (sp_curlx handles): one per thread, each a curl easy
 * handle that keeps its connection alive between requests.
 *
 * Errors are one line naming the connection and the object and what GCS
 * (or the token endpoint) said, e.g.
 *   connection 'lake': gs://b/a.csv: 403 Forbidden: caller does not have storage.objects.create access
 * They never hold a secret: the private key, the signed assertion and the
 * access tokens never enter a message. */
#ifndef SP_GCS_H
#define SP_GCS_H

#include <stddef.h>
#include <stdint.h>

#include "sp_buf.h"

typedef struct sp_gcs sp_gcs;
/* a connection: sp_curlx_handle_new / sp_curlx_handle_free (sp_curlx.h) */
typedef struct sp_curlx_handle sp_gcs_handle;

#define SP_GCS_SCOPE "https://www.googleapis.com/auth/devstorage.read_write"
#define SP_GCS_DEFAULT_ENDPOINT "https://storage.googleapis.com"
#define SP_GCS_DEFAULT_TOKEN_URI "https://oauth2.googleapis.com/token"

/* ---- service-account keys and JWTs --------------------------------------- */

/* A parsed service-account key.  Strings owned; pkey is an EVP_PKEY *. */
typedef struct sp_gcs_key {
    char *client_email;
    char *private_key_id; /* may be NULL */
    char *token_uri;      /* the key's, or SP_GCS_DEFAULT_TOKEN_URI */
    void *pkey;
} sp_gcs_key;

/* sp_gcs_key_parse: the JSON text of a key (GCS_SERVICE_ACCOUNT_CREDENTIALS_JSON).
 * SP_EDEF "connection 'x': GCS_SERVICE_ACCOUNT_CREDENTIALS_JSON: reason"
 * when it is not JSON, not of type service_account, lacks client_email or
 * private_key, or the private key is not an RSA PEM key ("connection 'x':
 * GCS_SERVICE_ACCOUNT_CREDENTIALS_JSON is empty" for no text); the message
 * never quotes the key.  Release
 * with sp_gcs_key_release (also after a failure). */
int sp_gcs_key_parse(const char *json, const char *conn, sp_gcs_key *out, sp_error *err);
void sp_gcs_key_release(sp_gcs_key *k);

/* sp_gcs_jwt: the signed assertion of the JWT-bearer grant into out:
 * base64url(header).base64url(claims).base64url(RS256 signature), claims
 * {iss: client_email, scope, aud: token_uri, iat: now, exp: now + lifetime}.
 * out holds a secret: the caller cleanses it. */
int sp_gcs_jwt(const sp_gcs_key *k, const char *scope, int64_t now, int lifetime,
               sp_buf *out, sp_error *err);

/* sp_gcs_token_usable: 1 when a token obtained at `obtained_ms` (monotonic)
 * that the endpoint said lives `expires_in` seconds may still be used at
 * now_ms: until a margin before its end, a tenth of its life at most five
 * minutes (a 3600 s token is refreshed after 55 min, a 10 s one after 9 s). */
int sp_gcs_token_usable(int64_t now_ms, int64_t obtained_ms, int64_t expires_in);

/* ---- client ------------------------------------------------------------- */

/* Settings.  Strings are copied by sp_gcs_open; NULL or "" means unset. */
typedef struct sp_gcs_conf {
    const char *conn_name; /* for messages */
    const char *bucket;
    const char *endpoint;  /* GCS_ENDPOINT; default SP_GCS_DEFAULT_ENDPOINT */
    const char *key_json;  /* GCS_SERVICE_ACCOUNT_CREDENTIALS_JSON */
    /* tuning (0 = default) */
    int max_attempts;      /* per request, default 6 */
    int retry_base_ms;     /* first backoff, default 200 */
    int retry_cap_ms;      /* backoff ceiling, default 10000 */
    int stall_ms;          /* no byte moving for this long = timeout, default 30000 */
    int connect_ms;        /* connect timeout, default 10000 */
} sp_gcs_conf;

/* sp_gcs_open: validate the settings and parse the key (no network yet).
 * SP_EDEF naming the connection for a bad key or endpoint URL. */
int sp_gcs_open(const sp_gcs_conf *c, sp_gcs **out, sp_error *err);
void sp_gcs_free(sp_gcs *g);

const char *sp_gcs_conn_name(const sp_gcs *g);

/* sp_gcs_uri: "gs://bucket/key" into buf (truncated to fit). */
void sp_gcs_uri(const sp_gcs *g, const char *key, char *buf, size_t bufsz);

/* URL kinds of sp_gcs_url */
typedef enum sp_gcs_url_kind {
    SP_GCS_BUCKET, /* <ep>/storage/v1/b/<bucket> */
    SP_GCS_OBJECT, /* <ep>/storage/v1/b/<bucket>/o/<key, percent-encoded> */
    SP_GCS_UPLOAD, /* <ep>/upload/storage/v1/b/<bucket>/o */
} sp_gcs_url_kind;

/* sp_gcs_url: the URL of kind (key for SP_GCS_OBJECT), then `query` (a raw
 * "a=b&c=d" string already encoded, may be NULL) into out. */
int sp_gcs_url(const sp_gcs *g, sp_gcs_url_kind kind, const char *key, const char *query,
               sp_buf *out, sp_error *err);

/* sp_gcs_encode: percent-encode s into out (unreserved characters kept). */
int sp_gcs_encode(sp_buf *out, const char *s, sp_error *err);

/* One request.  Inputs are borrowed for the call. */
typedef struct sp_gcs_req {
    const char *method;       /* "GET", "POST", "PUT", "DELETE" */
    const char *url;          /* absolute; must be on the endpoint (the bearer
                               * token goes nowhere else) */
    const char *key;          /* object key for messages, or NULL (the bucket) */
    const char *const *headers; /* extra "Name: value" lines */
    size_t nheaders;
    const void *body;         /* NULL with len 0: no body */
    size_t len;
    sp_buf *resp;             /* response body, or NULL to discard it */
    int single;               /* one attempt, no retry (the caller decides) */
    atomic_int *cancel;     /* may be NULL (borrowed): once raised, no attempt
                               * starts, the transfer in progress stops, and
                               * the request fails with SP_ECANCELLED */
    /* results */
    long status;              /* last HTTP status (0: no response) */
    char location[2048];      /* Location response header */
    char range[64];           /* Range response header ("bytes=0-262143") */
    int attempts;
} sp_gcs_req;

/* sp_gcs_do: send r with a bearer token (fetched or refreshed as needed; a
 * 401 refreshes it once), retrying timeouts, resets, 408, 429 and 5xx with
 * backoff (unless r->single), and fill r's results.  0 on 2xx or 308.
 * Otherwise: SP_EAUTH (401, 403), SP_ENOTFOUND (404), SP_EEXIST (412),
 * SP_ENET (network error, retriable), SP_ECANCELLED, SP_ESINK (other; the
 * retriable flag set for 408/429/5xx), with the message naming
 * "connection 'c': gs://bucket/key". */
int sp_gcs_do(sp_gcs *g, sp_gcs_handle *h, sp_gcs_req *r, sp_error *err);

/* sp_gcs_backoff: sleep before retry `attempt` + 1 (jittered exponential;
 * a raised *cancel ends it early). */
void sp_gcs_backoff(const sp_gcs *g, int attempt, atomic_int *cancel);

/* sp_gcs_max_attempts: the configured attempts per request. */
int sp_gcs_max_attempts(const sp_gcs *g);

/* sp_gcs_cancel_upload: end a resumable upload session: DELETE on its
 * session URI (GCS answers 499; 404/410: already gone — both are 0).  The
 * one way an upload session is discarded (abort, and recovery of sessions
 * a killed run left). */
int sp_gcs_cancel_upload(sp_gcs *g, sp_gcs_handle *h, const char *session_uri,
                         sp_error *err);

/* sp_gcs_token_count: access tokens fetched so far (tests). */
int sp_gcs_token_count(sp_gcs *g);

#endif
