// sp-deps: sp_sigv4 sp_buf sp_error
/* test_sigv4: the signer against AWS's published SigV4 test vectors
 * (tests/fixtures/sigv4/: <name>.req, the canonical request .creq, the
 * string to sign .sts and the Authorization .authz), against the S3
 * examples of the S3 API reference, and against botocore signing the same
 * S3-shaped requests (tests/tools/sigv4_botocore.py; skipped when no
 * botocore is importable). */
#include "sp_test.h"

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sp_sigv4.h"

#define FIX "tests/fixtures/sigv4/"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    sp_buf b = SP_BUF_INIT(1 << 20);
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        if (sp_buf_add(&b, tmp, n, NULL))
            break;
    fclose(f);
    if (!b.data)
        sp_buf_grow(&b, 1, NULL);
    return sp_buf_detach(&b);
}

/* ---- the AWS test suite -------------------------------------------------- */

#define MAXH 16

typedef struct parsed {
    char *text;
    sp_sigv4_kv q[MAXH], h[MAXH];
    size_t nq, nh;
    char *method, *path, *body;
} parsed;

/* parse_req: "METHOD /path?a=b HTTP/1.1\nName:value...\n\nbody" in place */
static int parse_req(char *t, parsed *p)
{
    memset(p, 0, sizeof *p);
    p->text = t;
    char *eol = strchr(t, '\n');
    if (!eol)
        return -1;
    *eol = '\0';
    char *rest = eol + 1;
    p->method = t;
    char *sp1 = strchr(t, ' ');
    char *sp2 = strrchr(t, ' ');
    if (!sp1 || sp1 == sp2)
        return -1;
    *sp1 = '\0';
    *sp2 = '\0';
    p->path = sp1 + 1;
    char *qm = strchr(p->path, '?');
    if (qm) {
        *qm = '\0';
        for (char *kv = qm + 1; kv && *kv && p->nq < MAXH; ) {
            char *amp = strchr(kv, '&');
            if (amp)
                *amp = '\0';
            char *eq = strchr(kv, '=');
            if (eq)
                *eq = '\0';
            p->q[p->nq].name = kv;
            p->q[p->nq++].value = eq ? eq + 1 : "";
            kv = amp ? amp + 1 : NULL;
        }
    }
    p->body = "";
    while (*rest) {
        char *e = strchr(rest, '\n');
        if (e)
            *e = '\0';
        if (!*rest) { /* blank line: the body follows */
            p->body = e ? e + 1 : "";
            break;
        }
        char *colon = strchr(rest, ':');
        if (!colon || p->nh == MAXH)
            return -1;
        *colon = '\0';
        p->h[p->nh].name = rest;
        p->h[p->nh++].value = colon + 1;
        if (!e)
            break;
        rest = e + 1;
    }
    return 0;
}

static void one_vector(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, FIX "%s.req", name);
    char *req = slurp(path);
    snprintf(path, sizeof path, FIX "%s.creq", name);
    char *creq = slurp(path);
    snprintf(path, sizeof path, FIX "%s.sts", name);
    char *sts = slurp(path);
    snprintf(path, sizeof path, FIX "%s.authz", name);
    char *authz = slurp(path);
    parsed p;
    if (!req || !creq || !sts || !authz || parse_req(req, &p)) {
        SP_T_FAIL("%s: missing or unreadable fixture", name);
        goto out;
    }
    char hash[65];
    sp_sha256_hex(p.body, strlen(p.body), hash);
    sp_sigv4_req r = {
        .method = p.method, .path = p.path, .query = p.q, .nquery = p.nq,
        .headers = p.h, .nheaders = p.nh, .payload_hash = hash,
        .access_key = "AKIDEXAMPLE",
        .secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        .region = "us-east-1", .service = "service",
        .time = 1440938160, /* 2015-08-30T12:36:00Z */
    };
    sp_buf auth = SP_BUF_INIT(4096);
    sp_sigv4_debug dbg = { SP_BUF_INIT(1 << 16), SP_BUF_INIT(1 << 16) };
    sp_error err = SP_ERROR_INIT;
    int rc = sp_sigv4_sign(&r, &auth, &dbg, &err);
    if (rc) {
        SP_T_FAIL("%s: %s", name, err.msg);
    } else {
        if (strcmp(dbg.creq.data, creq))
            SP_T_FAIL("%s: canonical request\n#   got:\n%s\n#   want:\n%s", name,
                      dbg.creq.data, creq);
        if (strcmp(dbg.sts.data, sts))
            SP_T_FAIL("%s: string to sign\n#   got:\n%s\n#   want:\n%s", name,
                      dbg.sts.data, sts);
        CHECK_STR(auth.data, authz);
    }
    sp_buf_release(&auth);
    sp_buf_release(&dbg.creq);
    sp_buf_release(&dbg.sts);
out:
    free(req);
    free(creq);
    free(sts);
    free(authz);
}

TEST(aws_test_suite)
{
    char *list = slurp(FIX "LIST");
    int n = 0;
    CHECK(list != NULL);
    for (char *s = list; s && *s; ) {
        char *e = strchr(s, '\n');
        if (e)
            *e = '\0';
        if (*s) {
            one_vector(s);
            n++;
        }
        s = e ? e + 1 : NULL;
    }
    CHECK(n >= 20);
    free(list);
}

/* ---- S3 examples (S3 API reference, "Signature Calculations for the
 * Authorization Header: Transferring Payload in a Single Chunk") ---------- */

#define S3AK "AKIAIOSFODNN7EXAMPLE"
#define S3SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define S3T 1369353600 /* 2013-05-24T00:00:00Z */

static void s3_example(const char *method, const char *path, const sp_sigv4_kv *q,
                       size_t nq, const sp_sigv4_kv *h, size_t nh, const char *hash,
                       const char *want)
{
    sp_sigv4_req r = {
        .method = method, .path = path, .query = q, .nquery = nq, .headers = h,
        .nheaders = nh, .payload_hash = hash, .access_key = S3AK, .secret_key = S3SK,
        .region = "us-east-1", .service = "s3", .time = S3T,
    };
    sp_buf auth = SP_BUF_INIT(4096);
    sp_error err = SP_ERROR_INIT;
    CHECK_INT(sp_sigv4_sign(&r, &auth, NULL, &err), 0);
    CHECK_STR(auth.data, want);
    sp_buf_release(&auth);
}

TEST(s3_get_object_range)
{
    sp_sigv4_kv h[] = {
        { "Host", "examplebucket.s3.amazonaws.com" },
        { "Range", "bytes=0-9" },
        { "x-amz-content-sha256", SP_SIGV4_EMPTY_SHA256 },
        { "x-amz-date", "20130524T000000Z" },
    };
    s3_example("GET", "/test.txt", NULL, 0, h, 4, SP_SIGV4_EMPTY_SHA256,
               "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
               "aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
               "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(s3_put_object)
{
    const char *body = "Welcome to Amazon S3.";
    char hash[65];
    sp_sha256_hex(body, strlen(body), hash);
    CHECK_STR(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    sp_sigv4_kv h[] = {
        { "Host", "examplebucket.s3.amazonaws.com" },
        { "Date", "Fri, 24 May 2013 00:00:00 GMT" },
        { "x-amz-date", "20130524T000000Z" },
        { "x-amz-storage-class", "REDUCED_REDUNDANCY" },
        { "x-amz-content-sha256", hash },
    };
    /* the key "test$file.text": '$' is encoded in the canonical URI */
    s3_example("PUT", "/test$file.text", NULL, 0, h, 5, hash,
               "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
               "aws4_request, SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;"
               "x-amz-storage-class, "
               "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(s3_get_bucket_lifecycle)
{
    sp_sigv4_kv q[] = { { "lifecycle", NULL } }; /* a bare "?lifecycle" */
    sp_sigv4_kv h[] = {
        { "Host", "examplebucket.s3.amazonaws.com" },
        { "x-amz-date", "20130524T000000Z" },
        { "x-amz-content-sha256", SP_SIGV4_EMPTY_SHA256 },
    };
    s3_example("GET", "/", q, 1, h, 3, SP_SIGV4_EMPTY_SHA256,
               "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
               "aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
               "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(s3_list_objects)
{
    sp_sigv4_kv q[] = { { "prefix", "J" }, { "max-keys", "2" } }; /* any order */
    sp_sigv4_kv h[] = {
        { "Host", "examplebucket.s3.amazonaws.com" },
        { "x-amz-date", "20130524T000000Z" },
        { "x-amz-content-sha256", SP_SIGV4_EMPTY_SHA256 },
    };
    s3_example("GET", "/", q, 2, h, 3, SP_SIGV4_EMPTY_SHA256,
               "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
               "aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
               "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(query_and_path_encoding)
{
    sp_buf b = SP_BUF_INIT(4096);
    sp_sigv4_kv q[] = { { "uploadId", "a/b+c=d" }, { "uploads", NULL },
                        { "partNumber", "7" } };
    CHECK_INT(sp_sigv4_query(&b, q, 3, NULL), 0);
    CHECK_STR(b.data, "partNumber=7&uploadId=a%2Fb%2Bc%3Dd&uploads=");
    sp_buf_reset(&b);
    const char *key = "dir/a b+ü~.csv";
    CHECK_INT(sp_sigv4_encode(&b, key, strlen(key), 1, NULL), 0);
    CHECK_STR(b.data, "dir/a%20b%2B%C3%BC~.csv");
    sp_buf_release(&b);
    char d[17];
    sp_sigv4_amzdate(1440938160, d);
    CHECK_STR(d, "20150830T123600Z");
}

/* ---- cross-check with botocore ------------------------------------------- */

typedef struct xreq {
    const char *service, *method, *path, *body, *token;
    sp_sigv4_kv q[4];
    size_t nq;
    sp_sigv4_kv extra[4];
    size_t nextra;
    int unsigned_payload; /* https: UNSIGNED-PAYLOAD */
} xreq;

static const xreq xreqs[] = {
    { "s3", "PUT", "/bucket/tinybird/daily/events_2026-11-24.csv.gz", "a,b;1,2;", NULL,
      { { 0 } }, 0,
      { { "Content-Type", "text/csv" }, { "Content-Encoding", "gzip" },
        { "x-amz-meta-job-id", "j-1" }, { "x-amz-meta-pipe", "daily_export" } }, 4, 0 },
    { "s3", "POST", "/bucket/a b/ü+=&$.csv", "", NULL,
      { { "uploads", NULL } }, 1, { { 0 } }, 0, 0 },
    { "s3", "PUT", "/bucket/k", "part data", "FQoGZXIvYXdzEJr//////////wEaDOSESSIONTOKEN+/=",
      { { "uploadId", "2~abc/def+ghi=" }, { "partNumber", "12" } }, 2,
      { { "Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==" } }, 1, 0 },
    { "s3", "GET", "/bucket", "", NULL,
      { { "list-type", "2" }, { "prefix", "tinybird/a b" }, { "max-keys", "1000" } }, 3,
      { { 0 } }, 0, 0 },
    { "s3", "DELETE", "/bucket/x.csv", "", NULL, { { "uploadId", "u 1" } }, 1,
      { { 0 } }, 0, 1 },
    { "s3", "PUT", "/bucket/big.csv", "unsigned body", NULL, { { 0 } }, 0,
      { { "If-None-Match", "*" } }, 1, 1 },
    { "sts", "POST", "/", "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr",
      NULL, { { 0 } }, 0, { { "Content-Type", "application/x-www-form-urlencoded" } }, 1, 0 },
};

TEST(botocore_cross_check)
{
    const char *amz = "20261124T010203Z";
    int64_t t = 1795482123; /* 2026-11-24T01:02:03Z */
    char d[17];
    sp_sigv4_amzdate(t, d);
    CHECK_STR(d, amz);
    char tmpl[] = "/tmp/sp-sigv4-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        SP_T_FAIL("mkstemp");
        return;
    }
    FILE *in = fdopen(fd, "w");
    size_t n = sizeof xreqs / sizeof xreqs[0];
    char mine[sizeof xreqs / sizeof xreqs[0]][512];
    for (size_t i = 0; i < n; i++) {
        const xreq *x = &xreqs[i];
        int https = x->unsigned_payload;
        const char *host = !strcmp(x->service, "s3") ? "s3.us-west-2.amazonaws.com"
                                                      : "sts.us-west-2.amazonaws.com";
        char hash[65];
        if (https)
            snprintf(hash, sizeof hash, "UNSIGNED-PAYLOAD");
        else
            sp_sha256_hex(x->body, strlen(x->body), hash);
        sp_sigv4_kv h[12];
        size_t nh = 0;
        h[nh++] = (sp_sigv4_kv){ "host", host };
        h[nh++] = (sp_sigv4_kv){ "x-amz-date", amz };
        if (!strcmp(x->service, "s3"))
            h[nh++] = (sp_sigv4_kv){ "x-amz-content-sha256", hash };
        if (x->token)
            h[nh++] = (sp_sigv4_kv){ "x-amz-security-token", x->token };
        for (size_t j = 0; j < x->nextra; j++)
            h[nh++] = x->extra[j];
        sp_sigv4_req r = {
            .method = x->method, .path = x->path, .query = x->q, .nquery = x->nq,
            .headers = h, .nheaders = nh, .payload_hash = hash,
            .access_key = "AKIDEXAMPLE", .secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            .region = "us-west-2", .service = x->service, .time = t,
        };
        sp_buf auth = SP_BUF_INIT(4096), url = SP_BUF_INIT(4096);
        CHECK_INT(sp_sigv4_sign(&r, &auth, NULL, NULL), 0);
        snprintf(mine[i], sizeof mine[i], "%s", auth.data ? auth.data : "");
        sp_buf_addf(&url, NULL, "%s://%s", https ? "https" : "http", host);
        sp_sigv4_encode(&url, x->path, strlen(x->path), 1, NULL);
        if (x->nq) {
            sp_buf_addch(&url, '?', NULL);
            sp_sigv4_query(&url, x->q, x->nq, NULL);
        }
        fprintf(in, "%s\tus-west-2\t%s\tAKIDEXAMPLE\twJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
                    "\t%s\t%s\t%s\t%s", x->service, amz, x->token ? x->token : "-",
                x->method, url.data, *x->body ? x->body : "-");
        for (size_t j = 0; j < x->nextra; j++)
            fprintf(in, "\t%s:%s", x->extra[j].name, x->extra[j].value);
        fprintf(in, "\n");
        sp_buf_release(&auth);
        sp_buf_release(&url);
    }
    fclose(in);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3; "
             "$PY tests/tools/sigv4_botocore.py < %s 2>&1", tmpl);
    FILE *out = popen(cmd, "r");
    char line[1024];
    size_t got = 0;
    while (out && fgets(line, sizeof line, out)) {
        line[strcspn(line, "\n")] = '\0';
        if (got < n)
            CHECK_STR(mine[got], line);
        got++;
    }
    int st = out ? pclose(out) : -1;
    unlink(tmpl);
    if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 77) {
        printf("# botocore not importable: cross-check skipped\n");
        return;
    }
    CHECK_INT(st, 0);
    CHECK_INT(got, n);
}

int main(void)
{
    RUN(aws_test_suite);
    RUN(s3_get_object_range);
    RUN(s3_put_object);
    RUN(s3_get_bucket_lifecycle);
    RUN(s3_list_objects);
    RUN(query_and_path_encoding);
    RUN(botocore_cross_check);
    return sp_test_done();
}
