/* sp_curlx: what sinkpipe's HTTP clients on libcurl share (sp_s3, sp_gcs):
 * one attempt of a request from memory (the body read and rewound from a
 * buffer, the answer into a capped sp_buf, chosen response headers kept,
 * stalls noticed on a monotonic clock, the run's cancel flag honoured),
 * which curl failures are transient, jittered exponential backoff, and a
 * pool of keep-alive connections.
 *
 * A handle is one curl easy handle (one connection kept alive between
 * requests); use it from one thread at a time.  A pool is thread-safe. */
#ifndef SP_CURLX_H
#define SP_CURLX_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "sp_buf.h"

typedef struct sp_curlx_handle sp_curlx_handle;

/* sp_curlx_global_init: curl_global_init, once per process; 0 or
 * SP_EINTERNAL (err may be NULL). */
int sp_curlx_global_init(sp_error *err);

sp_curlx_handle *sp_curlx_handle_new(void); /* NULL on ENOMEM */
void sp_curlx_handle_free(sp_curlx_handle *h);

/* A response header to keep: its value (trimmed, truncated to outsz) is
 * written to out, "" when the last answer had none. */
typedef struct sp_curlx_hdr {
    const char *name; /* lowercase */
    char *out;
    size_t outsz;
} sp_curlx_hdr;

/* One attempt.  Inputs are borrowed; the caller zero-initialises it and
 * fills the inputs. */
typedef struct sp_curlx {
    const char *method;       /* "GET", "HEAD", "PUT", "POST", "DELETE" */
    const char *url;
    struct curl_slist *headers;
    const void *body;         /* PUT/POST body (NULL with len 0: none) */
    size_t len;
    sp_buf *resp;             /* the answer's body (bytes past its ceiling
                               * are dropped), or NULL */
    sp_curlx_hdr *hdrs;       /* response headers to keep */
    size_t nhdrs;
    int stall_ms;             /* no byte moving either way this long: timeout */
    long connect_ms;
    atomic_int *cancel;     /* may be NULL: once raised the transfer stops */
    /* results */
    long status;              /* 0 when no answer came */
    int stalled, cancelled;   /* why a CURLE_ABORTED_BY_CALLBACK happened */
    /* state */
    size_t off;
    int resp_full;
    curl_off_t last_up, last_dn;
    int64_t last_move_ms;
} sp_curlx;

/* sp_curlx_perform: send x on h and wait for the answer.  A stall is
 * returned as CURLE_OPERATION_TIMEDOUT (x->stalled set), a cancel as
 * CURLE_ABORTED_BY_CALLBACK (x->cancelled set). */
CURLcode sp_curlx_perform(sp_curlx_handle *h, sp_curlx *x);

/* sp_curlx_transient: 1 for failures worth another attempt (refused or
 * reset connections, timeouts, an empty or cut answer, TLS set-up). */
int sp_curlx_transient(CURLcode c);

/* sp_curlx_status_retriable: 1 for HTTP answers worth another attempt:
 * 408 Request Timeout, 429 Too Many Requests, and 5xx but 501 Not
 * Implemented.  Every other 4xx is fatal: the same request gets the same
 * answer. */
int sp_curlx_status_retriable(long status);

/* sp_curlx_backoff: sleep before attempt + 1: equal jitter over
 * base_ms * 2^attempt capped at cap_ms, in slices, so that a raised
 * *cancel ends it early. */
void sp_curlx_backoff(int base_ms, int cap_ms, int attempt, atomic_int *cancel);

/* sp_curlx_header: append the header line ("Name: value"; "Name:" removes
 * a header curl would add) to *l, which curl copies.  0 or SP_ENOMEM. */
int sp_curlx_header(struct curl_slist **l, const char *line, sp_error *err);


/* A pool of idle connections (thread-safe). */
typedef struct sp_curlx_pool {
    pthread_mutex_t mu;
    sp_curlx_handle **idle;
    int n, cap;
} sp_curlx_pool;

void sp_curlx_pool_init(sp_curlx_pool *p);
/* sp_curlx_pool_get: an idle connection, or a new one (NULL on ENOMEM). */
sp_curlx_handle *sp_curlx_pool_get(sp_curlx_pool *p);
/* sp_curlx_pool_put: h is idle again (NULL is ignored). */
void sp_curlx_pool_put(sp_curlx_pool *p, sp_curlx_handle *h);
void sp_curlx_pool_release(sp_curlx_pool *p); /* frees the idle ones */

#endif
