/* sp_s3_int: the pieces of the S3 client (internal).
 *
 *   sp_s3.c        the client: endpoints, signed requests with retries and
 *                  S3's errors (the transport), sp_s3_do
 *   sp_s3_creds.c  its credentials: the base chain, STS AssumeRole
 *
 * `mu` guards the credentials and the clock offset; `role_mu` allows one
 * AssumeRole at a time. */
#ifndef SP_S3_INT_H
#define SP_S3_INT_H

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "sp_s3.h"

typedef struct sp__s3_endpoint {
    char *scheme;   /* "https" */
    char *hostport; /* "s3.us-east-1.amazonaws.com", "127.0.0.1:9000" */
    char *base;     /* path prefix without trailing '/', "" usually */
} sp__s3_endpoint;

typedef struct sp__s3_creds {
    char ak[256];
    char sk[256];
    char token[4096];
    int64_t expires; /* UTC seconds; 0 = never */
} sp__s3_creds;

struct sp_s3 {
    char *conn, *bucket, *region;
    char scheme[8]; /* of URIs in messages */
    sp__s3_endpoint s3, sts;
    int virtual_host; /* bucket in the host name */
    int aws_s3, aws_sts; /* the endpoints are AWS's defaults */
    char *cfg_ak, *cfg_sk, *role_arn, *external_id, *session_name;
    const sp_env *env;
    int max_attempts, base_ms, cap_ms, stall_ms, connect_ms, role_seconds, margin_s;
    pthread_mutex_t mu;      /* credentials, clock offset */
    pthread_mutex_t role_mu; /* one AssumeRole at a time */
    int have_base;       /* base credentials resolved */
    sp__s3_creds base;
    char source[512];    /* where the base credentials came from */
    int have_role;       /* role credentials valid (until role.expires - margin) */
    sp__s3_creds role;
    int64_t clock_offset; /* server time - our time, seconds */
};

/* A target: where and how one request goes. */
typedef struct sp__s3_target {
    const sp__s3_endpoint *ep;
    const char *host;    /* Host header */
    const char *path;    /* raw absolute path */
    const char *service; /* "s3" | "sts" */
    const char *what;    /* for messages: "s3://b/k" or "sts 'url'" */
} sp__s3_target;

/* s when it is set and not empty, else NULL */
static inline const char *sp__s3_nz(const char *s)
{
    return s && *s ? s : NULL;
}

/* n bytes of src into dst (dsz bytes), cut to fit, NUL-terminated */
static inline void sp__s3_copy_str(char *dst, size_t dsz, const char *src, size_t n)
{
    if (!dsz)
        return;
    if (n >= dsz)
        n = dsz - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* sp__s3_now: the real time, unix seconds (sp_s3.c) */
int64_t sp__s3_now(void);

/* sp__s3_request: send r to target t with retries, signed with the
 * credentials for S3 or (for_sts) STS (sp_s3.c) */
int sp__s3_request(sp_s3 *s, sp_s3_handle *h, const sp__s3_target *t, sp_s3_req *r,
                   int for_sts, sp_error *err);

/* sp__s3_get_creds: the credentials to sign a request with (for S3: the
 * role's when S3_ARN is set, refreshed near expiry; for STS: the base
 * ones); force: refresh the role's even if they look valid (ExpiredToken).
 * The caller wipes *out after use (sp_s3_creds.c) */
int sp__s3_get_creds(sp_s3 *s, int for_sts, int force, sp__s3_creds *out, sp_error *err);

#endif
