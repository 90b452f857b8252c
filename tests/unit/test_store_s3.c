// sp-deps: sp_store_s3 sp_store_upload sp_s3 sp_curlx sp_sigv4 sp_env sp_buf sp_error sp_journal sp_oplog sp_model sp_keys sp_cron sp_defs sp_time sp_clock sp_keys_env sp_s3_creds
/* test_store_s3: the S3 store and client against the project's strict S3 +
 * STS server (tests/harness/s3_server.py: verifies SigV4, payload hashes,
 * Content-MD5, multipart rules) behind its fault-injecting proxy, started
 * through tests/unit/s3_peer.sh.  Objects are read back through the direct
 * (never faulted) endpoint.  Skipped (one "ok - # skip" line) when python3
 * or awscli are missing. */
#include "sp_test.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sp_env.h"
#include "sp_curlx.h"
#include "sp_s3.h"
#include "sp_store_s3.h"

#define BUCKET "test-bucket"
#define MiB ((size_t)1 << 20)

/* ---- the peer ------------------------------------------------------------- */

static FILE *peer_in, *peer_out;
static pid_t peer_pid;
static char vars[32][2][1024];
static int nvars;

static const char *var(const char *name)
{
    for (int i = 0; i < nvars; i++)
        if (!strcmp(vars[i][0], name))
            return vars[i][1];
    return "";
}

/* peer_start: 1 running, 0 skipped, -1 failed */
static int peer_start(void)
{
    int to[2], from[2];
    if (pipe(to) || pipe(from))
        return -1;
    peer_pid = fork();
    if (peer_pid < 0)
        return -1;
    if (peer_pid == 0) {
        dup2(to[0], 0);
        dup2(from[1], 1);
        close(to[1]);
        close(from[0]);
        execlp("bash", "bash", "tests/unit/s3_peer.sh", BUCKET, (char *)NULL);
        _exit(127);
    }
    close(to[0]);
    close(from[1]);
    fcntl(to[1], F_SETFD, FD_CLOEXEC);
    fcntl(from[0], F_SETFD, FD_CLOEXEC);
    peer_in = fdopen(to[1], "w");
    peer_out = fdopen(from[0], "r");
    char line[1024];
    while (fgets(line, sizeof line, peer_out)) {
        line[strcspn(line, "\n")] = '\0';
        if (!strcmp(line, "READY"))
            return 1;
        if (!strcmp(line, "SKIP"))
            return 0;
        if (!strcmp(line, "FAIL"))
            return -1;
        char *eq = strchr(line, '=');
        if (eq && nvars < 32) {
            *eq = '\0';
            snprintf(vars[nvars][0], sizeof vars[nvars][0], "%s", line);
            snprintf(vars[nvars][1], sizeof vars[nvars][1], "%s", eq + 1);
            nvars++;
        }
    }
    return -1;
}

static void peer_stop(void)
{
    if (peer_in)
        fclose(peer_in); /* EOF: the harness stops the servers */
    if (peer_out)
        fclose(peer_out);
    if (peer_pid > 0)
        waitpid(peer_pid, NULL, 0);
}

/* peer: run a harness command; its output (last line) into out; status */
static int peer(const char *cmd, char *out, size_t outsz)
{
    fprintf(peer_in, "%s\n", cmd);
    fflush(peer_in);
    char line[4096];
    if (out && outsz)
        out[0] = '\0';
    while (fgets(line, sizeof line, peer_out)) {
        line[strcspn(line, "\n")] = '\0';
        if (!strncmp(line, "DONE ", 5))
            return (int)strtol(line + 5, NULL, 10);
        if (out && outsz)
            snprintf(out, outsz, "%s", line);
    }
    return -1;
}

static long peer_num(const char *cmd)
{
    char out[256];
    if (peer(cmd, out, sizeof out) != 0)
        return -1;
    return strtol(out, NULL, 10);
}

/* ---- helpers ------------------------------------------------------------- */

static void fill(char *p, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (char)(x >> 24);
    }
}

static sp_s3_conf conf_for(const char *endpoint)
{
    sp_s3_conf c = {
        .conn_name = "test_conn",
        .bucket = BUCKET,
        .region = var("S3_TEST_REGION"),
        .endpoint = endpoint,
        .access_key = var("S3_TEST_ACCESS_KEY"),
        .secret = var("S3_TEST_SECRET"),
        .sts_endpoint = var("S3_TEST_STS_ENDPOINT"),
        .retry_base_ms = 5,
        .retry_cap_ms = 50,
        .stall_ms = 3000,
    };
    return c;
}

static sp_store *open_store(const sp_s3_conf *c, size_t part, int threads)
{
    sp_store_s3_opts o = { .part_size = part, .threads = threads };
    sp_store *st = NULL;
    sp_error e = SP_ERROR_INIT;
    int rc = sp_store_s3_open(c, &o, "s3://" BUCKET "/", &st, &e);
    if (rc)
        SP_T_FAIL("sp_store_s3_open: %s", e.msg);
    return st;
}

/* put: write data through a writer in uneven chunks and commit */
static int put(sp_store *st, const char *key, const char *data, size_t n, int overwrite,
               uint64_t *size, sp_error *e)
{
    sp_objw *w = NULL;
    sp_obj_meta meta = { "job-42", "daily_export", "text/csv", "gzip" };
    int rc = st->vt->begin(st, key, &meta, &w, e);
    for (size_t off = 0, step = 70001; !rc && off < n; off += step)
        rc = st->vt->write(w, data + off, off + step > n ? n - off : step, e);
    if (!rc)
        rc = st->vt->commit(w, overwrite, size, e);
    if (rc && rc != SP_EEXIST)
        st->vt->abort(w);
    else if (rc == SP_EEXIST)
        st->vt->abort(w);
    return rc;
}

/* get: the object's bytes through the direct endpoint (never faulted) */
static int get(const char *key, sp_buf *out)
{
    sp_s3_conf c = conf_for(var("S3_TEST_DIRECT_ENDPOINT"));
    sp_s3 *s3 = NULL;
    sp_error e = SP_ERROR_INIT;
    if (sp_s3_open(&c, &s3, &e))
        return -1;
    sp_s3_handle *h = sp_curlx_handle_new();
    sp_s3_req r = { .method = "GET", .key = key, .resp = out };
    int rc = sp_s3_do(s3, h, &r, &e);
    if (rc && rc != SP_ENOTFOUND)
        SP_T_FAIL("GET %s: %s", key, e.msg);
    sp_curlx_handle_free(h);
    sp_s3_free(s3);
    return rc;
}

/* list_uploads: ListMultipartUploads of BUCKET (keys under prefix, "" for
 * all) through the direct endpoint into out; 0 or -1 */
static int list_uploads(const char *prefix, sp_buf *out)
{
    sp_s3_conf c = conf_for(var("S3_TEST_DIRECT_ENDPOINT"));
    sp_s3 *s3 = NULL;
    sp_error e = SP_ERROR_INIT;
    if (sp_s3_open(&c, &s3, &e))
        return -1;
    sp_s3_handle *h = sp_curlx_handle_new();
    sp_sigv4_kv q[] = { { "prefix", prefix }, { "uploads", NULL } };
    sp_s3_req r = { .method = "GET", .query = q + (*prefix ? 0 : 1),
                    .nquery = *prefix ? 2 : 1, .resp = out };
    int rc = sp_s3_do(s3, h, &r, &e) == 0 ? 0 : -1;
    if (rc)
        SP_T_FAIL("ListMultipartUploads: %s", e.msg);
    sp_curlx_handle_free(h);
    sp_s3_free(s3);
    return rc;
}

/* open_uploads: multipart uploads in progress in BUCKET, -1 on error */
static long open_uploads(void)
{
    sp_buf b = SP_BUF_INIT(1 << 20);
    long n = -1;
    if (list_uploads("", &b) == 0) {
        n = 0;
        for (const char *p = b.data; p && (p = strstr(p, "<UploadId>")); p++)
            n++;
    }
    sp_buf_release(&b);
    return n;
}

static void check_object(const char *key, const char *want, size_t n)
{
    sp_buf b = SP_BUF_INIT((size_t)64 << 20);
    int rc = get(key, &b);
    CHECK_INT(rc, 0);
    if (!rc && (b.len != n || memcmp(b.data, want, n)))
        SP_T_FAIL("%s: %zu bytes read back, %zu written, or different bytes", key, b.len, n);
    sp_buf_release(&b);
}

/* ---- tests --------------------------------------------------------------- */

TEST(single_put_and_metadata)
{
    sp_s3_conf c = conf_for(var("S3_TEST_ENDPOINT"));
    sp_store *st = open_store(&c, 0, 2);
    if (!st)
        return;
    char data[100000];
    fill(data, sizeof data, 1);
    uint64_t size = 0;
    sp_error e = SP_ERROR_INIT;
    long puts0 = peer_num("s3_log_count PutObject 200");
    CHECK_INT(put(st, "dir/a b+ü.csv.gz", data, sizeof data, 1, &size, &e), 0);
    CHECK_INT(size, sizeof data);
    CHECK_INT(peer_num("s3_log_count PutObject 200") - puts0, 1);
    check_object("dir/a b+ü.csv.gz", data, sizeof data);
    char out[4096];
    CHECK_INT(peer("s3_aws s3api head-object --bucket " BUCKET " --key 'dir/a b+ü.csv.gz' "
                   "--output json | tr -d ' \\n' && echo", out, sizeof out), 0);
    CHECK(strstr(out, "\"job-id\":\"job-42\"") != NULL);
    CHECK(strstr(out, "\"pipe\":\"daily_export\"") != NULL);
    CHECK(strstr(out, "\"ContentType\":\"text/csv\"") != NULL);
    CHECK(strstr(out, "\"ContentEncoding\":\"gzip\"") != NULL);
    int ex = 0;
    CHECK_INT(st->vt->exists(st, "dir/a b+ü.csv.gz", &ex, &e), 0);
    CHECK_INT(ex, 1);
    CHECK_INT(st->vt->exists(st, "dir/none.csv", &ex, &e), 0);
    CHECK_INT(ex, 0);
    /* keys are sent as they are: no "." / ".." / "//" folding */
    CHECK_INT(put(st, "odd/../x//y?&=.csv", data, 10, 1, &size, &e), 0);
    check_object("odd/../x//y?&=.csv", data, 10);
    CHECK_INT(st->vt->exists(st, "x/y?&=.csv", &ex, &e), 0);
    CHECK_INT(ex, 0);
    /* an empty object is an object */
    CHECK_INT(put(st, "empty.csv", "", 0, 1, &size, &e), 0);
    CHECK_INT(size, 0);
    CHECK_INT(st->vt->exists(st, "empty.csv", &ex, &e), 0);
    CHECK_INT(ex, 1);
    char uri[256];
    CHECK_INT(st->vt->uri(st, "x/y.csv", uri, sizeof uri), 0);
    CHECK_STR(uri, "s3://" BUCKET "/x/y.csv");
    st->vt->free(st);
}

TEST(virtual_host_style)
{
    /* S3_PATH_STYLE false: http://test-bucket.localhost:PORT/key (libcurl
     * resolves *.localhost to the loopback) */
    char ep[256];
    const char *direct = var("S3_TEST_DIRECT_ENDPOINT");
    const char *port = strrchr(direct, ':');
    snprintf(ep, sizeof ep, "http://localhost%s", port ? port : "");
    sp_s3_conf c = conf_for(ep);
    c.path_style = "false";
    sp_store *st = open_store(&c, 0, 1);
    if (!st)
        return;
    uint64_t size = 0;
    sp_error e = SP_ERROR_INIT;
    CHECK_INT(sp_store_s3_probe(st, &e), 0);
    CHECK_INT(put(st, "vh/a.csv", "virtual", 7, 1, &size, &e), 0);
    if (e.code)
        SP_T_FAIL("%s", e.msg);
    check_object("vh/a.csv", "virtual", 7);
    st->vt->free(st);
}

TEST(multipart_parallel_parts)
{
    sp_s3_conf c = conf_for(var("S3_TEST_ENDPOINT"));
    sp_store *st = open_store(&c, 5 * MiB, 3);
    if (!st)
        return;
    size_t n = 12 * MiB + 123; /* parts of 5, 5 and 2 MiB */
    char *data = malloc(n);
    fill(data, n, 2);
    long parts0 = peer_num("s3_log_count UploadPart 200");
    uint64_t size = 0;
    sp_error e = SP_ERROR_INIT;
    CHECK_INT(put(st, "big/events.csv", data, n, 1, &size, &e), 0);
    if (e.code)
        SP_T_FAIL("%s", e.msg);
    CHECK_INT(size, n);
    CHECK_INT(peer_num("s3_log_count UploadPart 200") - parts0, 3);
    CHECK_INT(peer_num("s3_log_count CompleteMultipartUpload 200") >= 1, 1);
    check_object("big/events.csv", data, n);
    CHECK_INT(open_uploads(), 0);
    st->vt->free(st);
    free(data);
}

TEST(create_new_and_replace)
{
    sp_s3_conf c = conf_for(var("S3_TEST_ENDPOINT"));
    sp_store *st = open_store(&c, 5 * MiB, 2);
    if (!st)
        return;
    char a[5000], b[6000];
    fill(a, sizeof a, 3);
    fill(b, sizeof b, 4);
    uint64_t size = 0;
    sp_error e = SP_ERROR_INIT;
    CHECK_INT(put(st, "cn/x.csv", a, sizeof a, 0, &size, &e), 0);
    /* create_new on an existing key: SP_EEXIST, the writer stays usable */
    sp_objw *w = NULL;
    CHECK_INT(st->vt->begin(st, "cn/x.csv", NULL, &w, &e), 0);
    CHECK_INT(st->vt->write(w, b, sizeof b, &e), 0);
    CHECK_INT(st->vt->commit(w, 0, &size, &e), SP_EEXIST);
    CHECK_STR(e.msg, "object 'cn/x.csv' already exists");
    sp_error_clear(&e);
    CHECK_INT(st->vt->commit_as(w, "cn/x.1.csv", 0, &size, &e), 0);
    CHECK_INT(size, sizeof b);
    check_object("cn/x.csv", a, sizeof a); /* untouched */
    check_object("cn/x.1.csv", b, sizeof b);
    /* replace overwrites */
    CHECK_INT(put(st, "cn/x.csv", b, sizeof b, 1, &size, &e), 0);
    check_object("cn/x.csv", b, sizeof b);
    /* If-None-Match: * is what guards a race: the server refuses with 412 */
    long pre = peer_num("s3_log_count PutObject 412");
    sp_s3 *s3 = NULL;
    CHECK_INT(sp_s3_open(&c, &s3, &e), 0);
    sp_s3_handle *h = sp_curlx_handle_new();
    sp_sigv4_kv inm[] = { { "If-None-Match", "*" } };
    sp_s3_req r = { .method = "PUT", .key = "cn/x.csv", .headers = inm, .nheaders = 1,
                    .body = "zz", .len = 2, .content_md5 = 1 };
    CHECK_INT(sp_s3_do(s3, h, &r, &e), SP_EEXIST);
    CHECK_INT(r.status, 412);
    CHECK(strstr(e.msg, "connection 'test_conn': s3://" BUCKET "/cn/x.csv: "
                        "PreconditionFailed") != NULL);
    CHECK_INT(peer_num("s3_log_count PutObject 412") - pre, 1);
    sp_error_clear(&e);
    sp_curlx_handle_free(h);
    sp_s3_free(s3);
    /* a multipart object cannot move to a sibling key at commit: the run
     * fails rather than overwrite, and the upload is aborted */
    size_t n = 6 * MiB;
    char *big = malloc(n);
    fill(big, n, 5);
    CHECK_INT(st->vt->begin(st, "cn/x.csv", NULL, &w, &e), 0);
    CHECK_INT(st->vt->write(w, big, n, &e), 0);
    CHECK_INT(st->vt->commit(w, 0, &size, &e), SP_EEXIST);
    sp_error_clear(&e);
    CHECK_INT(st->vt->commit_as(w, "cn/x.2.csv", 0, &size, &e), SP_ESINK);
    st->vt->abort(w);
    check_object("cn/x.csv", b, sizeof b);
    CHECK_INT(open_uploads(), 0);
    free(big);
    st->vt->free(st);
}

TEST(many_open_objects_ship_early)
{
    /* 13 objects of 5 MiB + 1 open at once: 65 MiB buffered is over the
     * store's 64 MiB budget, so the writer that crosses it ships a part
     * before any commit instead of growing to a full 8 MiB part */
    sp_s3_conf c = conf_for(var("S3_TEST_ENDPOINT"));
    sp_store *st = open_store(&c, 0, 2);
    if (!st)
        return;
    enum { N = 13 };
    size_t n = 5 * MiB + 1;
    char *data = malloc(n);
    fill(data, n, 9);
    sp_objw *w[N] = { 0 };
    sp_error e = SP_ERROR_INIT;
    long parts0 = peer_num("s3_log_count UploadPart 200");
    for (int i = 0; i < N; i++) {
        char key[64];
        snprintf(key, sizeof key, "many/%02d.csv", i);
        CHECK_INT(st->vt->begin(st, key, NULL, &w[i], &e), 0);
        CHECK_INT(st->vt->write(w[i], data, n, &e), 0);
    }
    for (int i = 0; i < N; i++) {
        uint64_t size = 0;
        CHECK_INT(st->vt->commit(w[i], 1, &size, &e), 0);
        CHECK_INT(size, n);
    }
    /* only the 13th crossed the budget: one part uploaded, 12 single PUTs */
    CHECK_INT(peer_num("s3_log_count UploadPart 200") - parts0, 1);
    check_object("many/12.csv", data, n);
    check_object("many/00.csv", data, n);
    free(data);
    st->vt->free(st);
}

TEST(abort_leaves_nothing)
{
    sp_s3_conf c = conf_for(var("S3_TEST_ENDPOINT"));
    sp_store *st = open_store(&c, 5 * MiB, 2);
    if (!st)
        return;
    size_t n = 11 * MiB;
    char *data = malloc(n);
    fill(data, n, 6);
    sp_objw *w = NULL;
    sp_error e = SP_ERROR_INIT;
    CHECK_INT(st->vt->begin(st, "ab/partial.csv", NULL, &w, &e), 0);
    CHECK_INT(st->vt->write(w, data, n, &e), 0); /* two parts shipped */
    CHECK_INT(open_uploads() >= 1, 1);
    st->vt->abort(w);
    CHECK_INT(open_uploads(), 0);
    int ex = 1;
    CHECK_INT(st->vt->exists(st, "ab/partial.csv", &ex, &e), 0);
    CHECK_INT(ex, 0);
    /* a small writer aborted: nothing sent at all */
    CHECK_INT(st->vt->begin(st, "ab/small.csv", NULL, &w, &e), 0);
    CHECK_INT(st->vt->write(w, data, 1000, &e), 0);
    st->vt->abort(w);
    CHECK_INT(st->vt->exists(st, "ab/small.csv", &ex, &e), 0);
    CHECK_INT(ex, 0);
    free(data);
    st->vt->free(st);
}

/* upload_id_of: the id of the open upload of `key` (first one), "" if none */
static void upload_id_of(const char *key, char *out, size_t outsz)
{
    sp_buf b = SP_BUF_INIT(1 << 20);
    out[0] = '\0';
    if (list_uploads(key, &b) == 0)
        sp_s3_xml_text(b.data, b.len, "UploadId", out, outsz);
    sp_buf_release(&b);
}

/* recover(): a dead run's upload is aborted by its journaled id, or — when
 * the id never reached the journal — by listing that exact key's uploads;
 * another key's upload is left alone */
TEST(recover_aborts_dead_uploads)
{
    sp_s3_conf c = conf_for(var("S3_TEST_ENDPOINT"));
    sp_store *st = open_store(&c, 5 * MiB, 2);
    if (!st)
        return;
    size_t n = 6 * MiB;
    char *data = malloc(n);
    fill(data, n, 7);
    sp_objw *w[3] = { NULL, NULL, NULL };
    const char *keys[3] = { "rc/a.csv", "rc/b.csv", "rc/c.csv" };
    sp_error e = SP_ERROR_INIT;
    for (int i = 0; i < 3; i++) {
        CHECK_INT(st->vt->begin(st, keys[i], NULL, &w[i], &e), 0);
        CHECK_INT(st->vt->write(w[i], data, n, &e), 0); /* one part shipped */
    }
    CHECK_INT(open_uploads(), 3);
    char id[256], what[1400];
    upload_id_of("rc/a.csv", id, sizeof id);
    CHECK(id[0] != '\0');
    json_t *ent = json_pack("{s:s,s:s,s:s}", "store", "s3", "key", "rc/a.csv", "upload_id", id);
    CHECK_OK(st->vt->recover(st, ent, what, sizeof what, &e), &e);
    CHECK(strstr(what, "aborted multipart upload ") == what);
    CHECK_OK(st->vt->recover(st, ent, what, sizeof what, &e), &e); /* again: gone */
    CHECK(strstr(what, "was already gone") != NULL);
    json_decref(ent);
    CHECK_INT(open_uploads(), 2);
    ent = json_pack("{s:s,s:s,s:I}", "store", "s3", "key", "rc/b.csv", "at",
                    (json_int_t)time(NULL));
    CHECK_OK(st->vt->recover(st, ent, what, sizeof what, &e), &e);
    CHECK(strstr(what, "aborted 1 multipart upload of s3://" BUCKET "/rc/b.csv") == what);
    json_decref(ent);
    upload_id_of("rc/c.csv", id, sizeof id);
    CHECK(id[0] != '\0'); /* another key's upload: untouched */
    for (int i = 0; i < 3; i++)
        st->vt->abort(w[i]);
    CHECK_INT(open_uploads(), 0);
    free(data);
    st->vt->free(st);
}

TEST(retries_through_faults)
{
    sp_s3_conf c = conf_for(var("S3_TEST_ENDPOINT"));
    c.stall_ms = 1000;
    sp_store *st = open_store(&c, 5 * MiB, 3);
    if (!st)
        return;
    CHECK_INT(peer("s3_fault_clear", NULL, 0), 0);
    CHECK_INT(peer("s3_fault p2 action=500 method=PUT match='partNumber=2&' times=2", NULL, 0), 0);
    CHECK_INT(peer("s3_fault p1 action=drop method=PUT match='partNumber=1&'", NULL, 0), 0);
    CHECK_INT(peer("s3_fault p3 action=503 method=PUT match='partNumber=3&'", NULL, 0), 0);
    CHECK_INT(peer("s3_fault cr action=500 method=POST match='uploads'", NULL, 0), 0);
    CHECK_INT(peer("s3_fault cm action=drop-after method=POST match='uploadId='", NULL, 0), 0);
    CHECK_INT(peer("s3_fault sp action=503 method=PUT match='small'", NULL, 0), 0);
    CHECK_INT(peer("s3_fault sk action=skew method=PUT match='small' nth=2", NULL, 0), 0);
    CHECK_INT(peer("s3_fault hd action=500 method=HEAD", NULL, 0), 0);
    /* a stalled answer: no byte for longer than stall_ms is a timeout */
    CHECK_INT(peer("s3_fault st action=stall-response method=PUT match='partNumber=3&' "
                   "nth=2 secs=4", NULL, 0), 0);
    size_t n = 12 * MiB + 7;
    char *data = malloc(n);
    fill(data, n, 7);
    uint64_t size = 0;
    sp_error e = SP_ERROR_INIT;
    CHECK_INT(put(st, "rt/big.csv", data, n, 1, &size, &e), 0);
    if (e.code)
        SP_T_FAIL("%s", e.msg);
    check_object("rt/big.csv", data, n);
    CHECK_INT(put(st, "rt/small.csv", data, 1000, 0, &size, &e), 0);
    if (e.code)
        SP_T_FAIL("%s", e.msg);
    check_object("rt/small.csv", data, 1000);
    const char *rules[] = { "p1", "p2", "p3", "cr", "sp", "sk", "hd", "st" };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        char cmd[64];
        snprintf(cmd, sizeof cmd, "s3_fault_count %s", rules[i]);
        long fired = peer_num(cmd);
        if (fired < 1)
            SP_T_FAIL("fault %s fired %ld times", rules[i], fired);
    }
    CHECK_INT(open_uploads(), 0);
    /* a request that keeps failing gives up with the last answer */
    CHECK_INT(peer("s3_fault all action=503 method=PUT match='never' times=0", NULL, 0), 0);
    e = (sp_error)SP_ERROR_INIT;
    CHECK_INT(put(st, "rt/never.csv", data, 100, 1, &size, &e), SP_ESINK);
    CHECK(strstr(e.msg, "connection 'test_conn': s3://" BUCKET "/rt/never.csv: SlowDown: "
                        "Please reduce your request rate. (gave up after 6 attempts)") != NULL);
    if (!strstr(e.msg, "gave up"))
        SP_T_FAIL("%s", e.msg);
    CHECK_INT(e.retriable, 1);
    CHECK_INT(peer("s3_fault_clear", NULL, 0), 0);
    free(data);
    st->vt->free(st);
}

/* the retry policy reads the error's retriable flag: a fatal answer (403
 * AccessDenied) is sent once and fails fatal; a retriable one (429, then
 * 503 on every attempt) is sent max_attempts times and fails retriable */
TEST(retry_policy_reads_the_flag)
{
    sp_s3_conf c = conf_for(var("S3_TEST_ENDPOINT"));
    sp_store *st = open_store(&c, 5 * MiB, 1);
    if (!st)
        return;
    char data[100];
    fill(data, sizeof data, 3);
    uint64_t size = 0;
    CHECK_INT(peer("s3_fault_clear", NULL, 0), 0);
    CHECK_INT(peer("s3_fault deny action=403 method=PUT match='rp/denied' times=0", NULL, 0), 0);
    sp_error e = SP_ERROR_INIT;
    CHECK_INT(put(st, "rp/denied.csv", data, sizeof data, 1, &size, &e), SP_EAUTH);
    CHECK_INT(e.retriable, 0);
    CHECK(strstr(e.msg, "AccessDenied: Access Denied") != NULL);
    CHECK(strstr(e.msg, "gave up") == NULL);
    CHECK_INT(peer_num("s3_fault_count deny"), 1);
    CHECK_INT(peer("s3_fault_clear", NULL, 0), 0);
    CHECK_INT(peer("s3_fault busy action=429 method=PUT match='rp/busy' times=2", NULL, 0), 0);
    e = (sp_error)SP_ERROR_INIT;
    CHECK_INT(put(st, "rp/busy.csv", data, sizeof data, 1, &size, &e), 0);
    if (e.code)
        SP_T_FAIL("%s", e.msg);
    CHECK_INT(peer_num("s3_fault_count busy"), 2);
    check_object("rp/busy.csv", data, sizeof data);
    CHECK_INT(peer("s3_fault_clear", NULL, 0), 0);
    CHECK_INT(peer("s3_fault slow action=503 method=PUT match='rp/slow' times=0", NULL, 0), 0);
    e = (sp_error)SP_ERROR_INIT;
    CHECK_INT(put(st, "rp/slow.csv", data, sizeof data, 1, &size, &e), SP_ESINK);
    CHECK_INT(e.retriable, 1);
    CHECK(strstr(e.msg, "(gave up after 6 attempts)") != NULL);
    CHECK_INT(peer_num("s3_fault_count slow"), 6);
    CHECK_INT(peer("s3_fault_clear", NULL, 0), 0);
    st->vt->free(st);
}

/* a stall after data flowed (the whole body sent, then no answer for 4 s)
 * is noticed after stall_ms, not seconds later: the client gives up on
 * the first attempt and sends the request again while the proxy still
 * holds the first one (libcurl's low-speed limit averaged the speed over
 * the last seconds and let the first attempt wait the 4 s out) */
TEST(stall_noticed_on_time)
{
    sp_s3_conf c = conf_for(var("S3_TEST_ENDPOINT"));
    c.stall_ms = 1000;
    sp_store *st = open_store(&c, 5 * MiB, 2);
    if (!st)
        return;
    CHECK_INT(peer("s3_fault_clear", NULL, 0), 0);
    CHECK_INT(peer("s3_fault sr action=stall-response method=PUT match='stall/one' secs=4",
                   NULL, 0), 0);
    size_t n = 3 * MiB;
    char *data = malloc(n);
    fill(data, n, 11);
    uint64_t size = 0;
    sp_error e = SP_ERROR_INIT;
    CHECK_INT(put(st, "stall/one.csv", data, n, 1, &size, &e), 0);
    if (e.code)
        SP_T_FAIL("%s", e.msg);
    CHECK_INT(peer_num("s3_fault_count sr"), 1);
    /* seen twice: the second attempt reached the proxy (it is answered at
     * once); with the late check the first attempt got its answer after
     * the stall and nothing was sent again */
    CHECK_INT(peer_num("s3_fault_seen sr") >= 2, 1);
    check_object("stall/one.csv", data, n);
    CHECK_INT(peer("s3_fault_clear", NULL, 0), 0);
    free(data);
    st->vt->free(st);
}

typedef struct commit_arg {
    sp_store *st;
    sp_objw *w;
    int rc;
    sp_error e;
} commit_arg;

static void *commit_thread(void *p)
{
    commit_arg *a = p;
    uint64_t size = 0;
    a->rc = a->st->vt->commit(a->w, 1, &size, &a->e);
    return NULL;
}

/* the cancel flag raised while commit waits for a part in flight (every
 * row written): commit fails with SP_ECANCELLED, the part's transfer is
 * stopped, nothing becomes visible and abort leaves no upload */
TEST(cancel_during_commit)
{
    sp_s3_conf c = conf_for(var("S3_TEST_ENDPOINT"));
    sp_store *st = open_store(&c, 5 * MiB, 2);
    if (!st)
        return;
    CHECK_INT(peer("s3_fault_clear", NULL, 0), 0);
    CHECK_INT(peer("s3_fault cp2 action=stall method=PUT match='cancel/big.*partNumber=2&' "
                   "secs=6", NULL, 0), 0);
    size_t n = 11 * MiB;
    char *data = malloc(n);
    fill(data, n, 12);
    atomic_int cancel = 0;
    sp_obj_meta meta = { "job-c", "cancel_pipe", "text/csv", NULL, &cancel };
    commit_arg a = { .st = st, .e = SP_ERROR_INIT };
    CHECK_INT(st->vt->begin(st, "cancel/big.csv", &meta, &a.w, &a.e), 0);
    CHECK_INT(st->vt->write(a.w, data, n, &a.e), 0); /* parts 1 and 2 shipped */
    pthread_t t;
    CHECK_INT(pthread_create(&t, NULL, commit_thread, &a), 0);
    /* wait (deadline 20 s) until part 2 is held by the proxy */
    for (int i = 0; i < 200 && peer_num("s3_fault_seen cp2") < 1; i++) {
        struct timespec ts = { 0, 100000000L };
        nanosleep(&ts, NULL);
    }
    CHECK_INT(peer_num("s3_fault_seen cp2"), 1);
    __atomic_store_n(&cancel, 1, __ATOMIC_RELAXED); /* read by the upload threads */
    pthread_join(t, NULL);
    CHECK_INT(a.rc, SP_ECANCELLED);
    CHECK(strstr(a.e.msg, "cancel") != NULL);
    if (a.rc) /* a commit that succeeded freed the writer */
        st->vt->abort(a.w);
    CHECK_INT(open_uploads(), 0);
    int ex = 1;
    sp_error e = SP_ERROR_INIT;
    CHECK_INT(st->vt->exists(st, "cancel/big.csv", &ex, &e), 0);
    CHECK_INT(ex, 0);
    /* a small object: a raised flag stops its single PUT too */
    sp_objw *w = NULL;
    CHECK_INT(st->vt->begin(st, "cancel/small.csv", &meta, &w, &e), 0);
    CHECK_INT(st->vt->write(w, data, 1000, &e), 0);
    uint64_t size = 0;
    int rc = st->vt->commit(w, 1, &size, &e);
    CHECK_INT(rc, SP_ECANCELLED);
    if (rc)
        st->vt->abort(w);
    CHECK_INT(st->vt->exists(st, "cancel/small.csv", &ex, &e), 0);
    CHECK_INT(ex, 0);
    CHECK_INT(peer("s3_fault_clear", NULL, 0), 0);
    free(data);
    st->vt->free(st);
}

/* background commits: many small objects and a multipart one started
 * together, collected in order; one that keeps failing fails alone (its
 * writer stays open for abort), the others land */
TEST(commits_side_by_side)
{
    sp_s3_conf c = conf_for(var("S3_TEST_ENDPOINT"));
    c.max_attempts = 2;
    sp_store *st = open_store(&c, 5 * MiB, 3);
    if (!st)
        return;
    CHECK_INT(peer("s3_fault_clear", NULL, 0), 0);
    CHECK_INT(peer("s3_fault bad action=500 method=PUT match='side/o7[.]csv' times=0", NULL, 0),
              0);
    enum { N = 20 };
    size_t big = 11 * MiB;
    char *data = malloc(big);
    fill(data, big, 13);
    sp_objw *w[N + 1];
    sp_error e = SP_ERROR_INIT;
    for (int i = 0; i <= N; i++) {
        char key[64];
        snprintf(key, sizeof key, i < N ? "side/o%d.csv" : "side/big%d.csv", i);
        CHECK_INT(st->vt->begin(st, key, NULL, &w[i], &e), 0);
        CHECK_INT(st->vt->write(w[i], data + i, i < N ? 1000 + (size_t)i : big - N, &e), 0);
        CHECK_INT(st->vt->commit_start(w[i], 1, &e), 0);
    }
    for (int i = 0; i <= N; i++) {
        uint64_t size = 0;
        sp_error we = SP_ERROR_INIT;
        int rc = st->vt->commit_wait(w[i], &size, &we);
        if (i == 7) {
            CHECK_INT(rc, SP_ESINK);
            CHECK(strstr(we.msg, "side/o7.csv") != NULL);
            st->vt->abort(w[i]);
            continue;
        }
        CHECK_INT(rc, 0);
        CHECK_INT(size, i < N ? 1000 + (uint64_t)i : (uint64_t)(big - N));
    }
    for (int i = 0; i <= N; i++) {
        char key[64];
        snprintf(key, sizeof key, i < N ? "side/o%d.csv" : "side/big%d.csv", i);
        if (i == 7) {
            int ex = 1;
            CHECK_INT(st->vt->exists(st, key, &ex, &e), 0);
            CHECK_INT(ex, 0);
        } else {
            check_object(key, data + i, i < N ? 1000 + (size_t)i : big - N);
        }
    }
    CHECK_INT(open_uploads(), 0);
    /* aborted between start and wait: nothing lands */
    sp_objw *a = NULL;
    CHECK_INT(st->vt->begin(st, "side/gone.csv", NULL, &a, &e), 0);
    CHECK_INT(st->vt->write(a, data, big, &e), 0);
    CHECK_INT(st->vt->commit_start(a, 1, &e), 0);
    st->vt->abort(a);
    CHECK_INT(open_uploads(), 0);
    CHECK_INT(peer("s3_fault_clear", NULL, 0), 0);
    free(data);
    st->vt->free(st);
}

TEST(errors_name_connection_and_s3)
{
    sp_error e = SP_ERROR_INIT;
    uint64_t size;
    /* wrong secret */
    sp_s3_conf c = conf_for(var("S3_TEST_ENDPOINT"));
    c.secret = "not-the-secret-XYZ";
    sp_store *st = open_store(&c, 0, 1);
    if (!st)
        return;
    CHECK_INT(put(st, "e/x.csv", "a", 1, 1, &size, &e), SP_EAUTH);
    CHECK(strstr(e.msg, "connection 'test_conn': s3://" BUCKET "/e/x.csv: "
                        "SignatureDoesNotMatch") != NULL);
    CHECK(strstr(e.msg, "not-the-secret") == NULL);
    st->vt->free(st);
    /* unknown bucket */
    sp_error_clear(&e);
    c = conf_for(var("S3_TEST_ENDPOINT"));
    c.bucket = "no-such-bucket";
    sp_store_s3_opts o = { 0 };
    CHECK_INT(sp_store_s3_open(&c, &o, "s3://no-such-bucket/", &st, &e), 0);
    CHECK_INT(sp_store_s3_probe(st, &e), SP_ENOTFOUND); /* before any query */
    CHECK_STR(e.msg, "connection 'test_conn': s3://no-such-bucket/: NoSuchBucket: "
                     "The specified bucket does not exist");
    sp_error_clear(&e);
    CHECK_INT(put(st, "x.csv", "a", 1, 1, &size, &e), SP_ENOTFOUND);
    CHECK_STR(e.msg, "connection 'test_conn': s3://no-such-bucket/x.csv: NoSuchBucket: "
                     "The specified bucket does not exist");
    st->vt->free(st);
    /* the bucket exists: the probe passes (also for read-only credentials) */
    sp_error_clear(&e);
    c = conf_for(var("S3_TEST_ENDPOINT"));
    st = open_store(&c, 0, 1);
    CHECK_INT(sp_store_s3_probe(st, &e), 0);
    st->vt->free(st);
    /* read-only credentials */
    sp_error_clear(&e);
    c = conf_for(var("S3_TEST_ENDPOINT"));
    c.access_key = var("S3_TEST_RO_ACCESS_KEY");
    c.secret = var("S3_TEST_RO_SECRET");
    st = open_store(&c, 0, 1);
    CHECK_INT(put(st, "e/ro.csv", "a", 1, 1, &size, &e), SP_EAUTH);
    CHECK(strstr(e.msg, "connection 'test_conn': s3://" BUCKET "/e/ro.csv: AccessDenied")
          != NULL);
    st->vt->free(st);
    /* bad region name, bad endpoint */
    sp_error_clear(&e);
    c = conf_for(var("S3_TEST_ENDPOINT"));
    c.region = "us east";
    CHECK_INT(sp_store_s3_open(&c, &o, "s3://" BUCKET "/", &st, &e), SP_EDEF);
    CHECK_STR(e.msg, "connection 'test_conn': S3_REGION 'us east' is not a region name "
                     "(e.g. us-east-1)");
    sp_error_clear(&e);
    c = conf_for("ftp://x");
    CHECK_INT(sp_store_s3_open(&c, &o, "s3://" BUCKET "/", &st, &e), SP_EDEF);
    CHECK(strstr(e.msg, "S3_ENDPOINT 'ftp://x'") != NULL);
    /* the wrong region for the server: it names the right one */
    sp_error_clear(&e);
    c = conf_for(var("S3_TEST_ENDPOINT"));
    c.region = "eu-west-3";
    st = open_store(&c, 0, 1);
    CHECK(put(st, "e/r.csv", "a", 1, 1, &size, &e) != 0);
    CHECK(strstr(e.msg, "connection 'test_conn': s3://" BUCKET "/e/r.csv: ") != NULL);
    if (!strstr(e.msg, "us-east-1"))
        SP_T_FAIL("region error does not name the bucket's region: %s", e.msg);
    st->vt->free(st);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

TEST(credentials_chain)
{
    char src[256];
    sp_error e = SP_ERROR_INIT;
    uint64_t size;
    sp_env *env = sp_env_new_empty();
    sp_s3_conf c = conf_for(var("S3_TEST_ENDPOINT"));
    c.env = env;
    /* 1. the connection's keys win over the environment */
    sp_env_set(env, "AWS_ACCESS_KEY_ID", "AKIAWRONGWRONGWRONG");
    sp_env_set(env, "AWS_SECRET_ACCESS_KEY", "wrong");
    sp_s3 *s3 = NULL;
    CHECK_INT(sp_s3_open(&c, &s3, &e), 0);
    CHECK_INT(sp_s3_credentials_source(s3, src, sizeof src, &e), 0);
    CHECK_STR(src, "connection");
    sp_s3_free(s3);
    /* 2. the environment */
    c.access_key = c.secret = NULL;
    sp_env_set(env, "AWS_ACCESS_KEY_ID", var("S3_TEST_ACCESS_KEY"));
    sp_env_set(env, "AWS_SECRET_ACCESS_KEY", var("S3_TEST_SECRET"));
    sp_store *st = open_store(&c, 0, 1);
    CHECK_INT(put(st, "cred/env.csv", "env", 3, 1, &size, &e), 0);
    st->vt->free(st);
    CHECK_INT(sp_s3_open(&c, &s3, &e), 0);
    CHECK_INT(sp_s3_credentials_source(s3, src, sizeof src, &e), 0);
    CHECK_STR(src, "environment");
    sp_s3_free(s3);
    /* 3. the shared file, AWS_PROFILE's section */
    char dir[] = "/tmp/sp-s3cred-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256], text[1024];
    snprintf(path, sizeof path, "%s/credentials", dir);
    snprintf(text, sizeof text,
             "[default]\naws_access_key_id = AKIADEFAULTDEFAULT\naws_secret_access_key = x\n"
             "\n[writer]\n aws_access_key_id=%s \naws_secret_access_key = %s\n",
             var("S3_TEST_ACCESS_KEY"), var("S3_TEST_SECRET"));
    write_file(path, text);
    sp_env_set(env, "AWS_ACCESS_KEY_ID", "");
    sp_env_set(env, "AWS_SECRET_ACCESS_KEY", "");
    sp_env_set(env, "AWS_SHARED_CREDENTIALS_FILE", path);
    sp_env_set(env, "AWS_PROFILE", "writer");
    st = open_store(&c, 0, 1);
    CHECK_INT(put(st, "cred/file.csv", "file", 4, 1, &size, &e), 0);
    if (e.code)
        SP_T_FAIL("%s", e.msg);
    st->vt->free(st);
    CHECK_INT(sp_s3_open(&c, &s3, &e), 0);
    CHECK_INT(sp_s3_credentials_source(s3, src, sizeof src, &e), 0);
    char want[512];
    snprintf(want, sizeof want, "shared file '%s' profile 'writer'", path);
    CHECK_STR(src, want);
    sp_s3_free(s3);
    /* the default profile (wrong secret) is what signs without AWS_PROFILE */
    sp_env_set(env, "AWS_PROFILE", "");
    st = open_store(&c, 0, 1);
    CHECK_INT(put(st, "cred/default.csv", "d", 1, 1, &size, &e), SP_EAUTH);
    CHECK(strstr(e.msg, "InvalidAccessKeyId") != NULL);
    st->vt->free(st);
    /* 2b. temporary credentials in the environment: AWS_SESSION_TOKEN is
     * sent (and signed) with them */
    sp_error_clear(&e);
    char line[4096];
    snprintf(text, sizeof text,
             "s3_aws sts assume-role --role-arn '%s' --role-session-name tt "
             "--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' "
             "--output text", var("S3_TEST_ROLE_ARN"));
    CHECK_INT(peer(text, line, sizeof line), 0);
    char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
    if (t1 && t2) {
        *t1 = *t2 = '\0';
        sp_env_set(env, "AWS_SHARED_CREDENTIALS_FILE", "");
        sp_env_set(env, "AWS_PROFILE", "");
        sp_env_set(env, "AWS_ACCESS_KEY_ID", line);
        sp_env_set(env, "AWS_SECRET_ACCESS_KEY", t1 + 1);
        sp_env_set(env, "AWS_SESSION_TOKEN", t2 + 1);
        st = open_store(&c, 0, 1);
        CHECK_INT(put(st, "cred/token.csv", "t", 1, 1, &size, &e), 0);
        if (e.code)
            SP_T_FAIL("%s", e.msg);
        st->vt->free(st);
        /* without its token the temporary key is refused */
        sp_env_set(env, "AWS_SESSION_TOKEN", "");
        st = open_store(&c, 0, 1);
        CHECK_INT(put(st, "cred/token2.csv", "t", 1, 1, &size, &e), SP_EAUTH);
        st->vt->free(st);
        sp_error_clear(&e);
        sp_env_set(env, "AWS_ACCESS_KEY_ID", "");
        sp_env_set(env, "AWS_SECRET_ACCESS_KEY", "");
    } else {
        SP_T_FAIL("aws sts assume-role: %s", line);
    }
    /* 4. nothing at all: one line saying where we looked */
    sp_error_clear(&e);
    sp_env_set(env, "AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials");
    st = open_store(&c, 0, 1);
    CHECK_INT(put(st, "cred/none.csv", "n", 1, 1, &size, &e), SP_EAUTH);
    CHECK_STR(e.msg, "connection 'test_conn': no credentials: set S3_ACCESS_KEY and "
                     "S3_SECRET, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile "
                     "'default' in /nonexistent/credentials");
    st->vt->free(st);
    unlink(path);
    rmdir(dir);
    sp_env_free(env);
}

TEST(assume_role)
{
    sp_error e = SP_ERROR_INIT;
    uint64_t size;
    sp_s3_conf c = conf_for(var("S3_TEST_ENDPOINT"));
    c.role_arn = var("S3_TEST_ROLE_ARN");
    long n0 = peer_num("s3_log_count sts:AssumeRole 200");
    sp_store *st = open_store(&c, 0, 1);
    if (!st)
        return;
    CHECK_INT(put(st, "role/a.csv", "a", 1, 1, &size, &e), 0);
    CHECK_INT(put(st, "role/b.csv", "b", 1, 1, &size, &e), 0);
    if (e.code)
        SP_T_FAIL("%s", e.msg);
    st->vt->free(st);
    CHECK_INT(peer_num("s3_log_count sts:AssumeRole 200") - n0, 1); /* cached */
    /* the temporary key is not the base key */
    sp_s3 *s3 = NULL;
    char ak[256] = "";
    CHECK_INT(sp_s3_open(&c, &s3, &e), 0);
    CHECK_INT(sp_s3_access_key(s3, ak, sizeof ak, &e), 0);
    CHECK(ak[0] && strcmp(ak, var("S3_TEST_ACCESS_KEY")) != 0);
    sp_s3_free(s3);
    /* refresh before expiry: credentials living 900 s, refreshed when less
     * than 1000 s are left, so before every request */
    c.role_seconds = 900;
    c.refresh_margin_s = 1000;
    n0 = peer_num("s3_log_count sts:AssumeRole 200");
    st = open_store(&c, 0, 1);
    CHECK_INT(put(st, "role/c.csv", "c", 1, 1, &size, &e), 0);
    CHECK_INT(put(st, "role/d.csv", "d", 1, 1, &size, &e), 0);
    CHECK_INT(put(st, "role/e.csv", "e", 1, 1, &size, &e), 0);
    st->vt->free(st);
    CHECK_INT(peer_num("s3_log_count sts:AssumeRole 200") - n0, 3);
    c.role_seconds = 0;
    c.refresh_margin_s = 0;
    /* external id */
    c.role_arn = var("S3_TEST_EXT_ROLE_ARN");
    st = open_store(&c, 0, 1);
    CHECK_INT(put(st, "role/x.csv", "x", 1, 1, &size, &e), SP_EAUTH);
    CHECK(strstr(e.msg, "connection 'test_conn': AssumeRole '") != NULL);
    st->vt->free(st);
    sp_error_clear(&e);
    c.external_id = var("S3_TEST_EXTERNAL_ID");
    st = open_store(&c, 0, 1);
    CHECK_INT(put(st, "role/x.csv", "x", 1, 1, &size, &e), 0);
    if (e.code)
        SP_T_FAIL("%s", e.msg);
    st->vt->free(st);
    c.external_id = NULL;
    /* a denied role: STS's answer, one line, never a success */
    c.role_arn = var("S3_TEST_DENIED_ROLE_ARN");
    st = open_store(&c, 0, 1);
    CHECK_INT(put(st, "role/denied.csv", "x", 1, 1, &size, &e), SP_EAUTH);
    char want[512];
    snprintf(want, sizeof want, "connection 'test_conn': AssumeRole '%s': AccessDenied",
             var("S3_TEST_DENIED_ROLE_ARN"));
    CHECK(!strncmp(e.msg, want, strlen(want)));
    if (strncmp(e.msg, want, strlen(want)))
        SP_T_FAIL("%s", e.msg);
    CHECK(strstr(e.msg, var("S3_TEST_SECRET")) == NULL);
    st->vt->free(st);
    /* ... and the probe reports it before any query runs */
    sp_error_clear(&e);
    st = open_store(&c, 0, 1);
    CHECK_INT(sp_store_s3_probe(st, &e), SP_EAUTH);
    CHECK(!strncmp(e.msg, want, strlen(want)));
    st->vt->free(st);
}

TEST(xml_and_digests)
{
    char out[64];
    const char *x = "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code>"
                    "<Message>The key &amp; more</Message><Key>a</Key></Error>";
    CHECK_INT(sp_s3_xml_text(x, strlen(x), "Code", out, sizeof out), 1);
    CHECK_STR(out, "NoSuchKey");
    CHECK_INT(sp_s3_xml_text(x, strlen(x), "Message", out, sizeof out), 1);
    CHECK_STR(out, "The key & more");
    CHECK_INT(sp_s3_xml_text(x, strlen(x), "UploadId", out, sizeof out), 0);
    CHECK_INT(sp_s3_xml_text("<a><b>", 6, "b", out, sizeof out), 0); /* bad XML */
    const char *ns = "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/"
                     "2006-03-01/\"><UploadId>u-1</UploadId></InitiateMultipartUploadResult>";
    CHECK_INT(sp_s3_xml_text(ns, strlen(ns), "UploadId", out, sizeof out), 1);
    CHECK_STR(out, "u-1");
    char md5[25];
    sp_md5_base64("", 0, md5);
    CHECK_STR(md5, "1B2M2Y8AsgTpgAmY7PhCfg==");
    sp_md5_base64("Welcome to Amazon S3.", 21, md5);
    CHECK_INT(strlen(md5), 24);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    RUN(xml_and_digests);
    int up = peer_start();
    if (up == 0) {
        printf("ok - # skip: no python3 or awscli for the S3 server\n");
        peer_stop();
        return 0;
    }
    if (up < 0) {
        printf("not ok - the S3 server did not start\n");
        peer_stop();
        return 1;
    }
    RUN(single_put_and_metadata);
    RUN(virtual_host_style);
    RUN(multipart_parallel_parts);
    RUN(create_new_and_replace);
    RUN(many_open_objects_ship_early);
    RUN(abort_leaves_nothing);
    RUN(recover_aborts_dead_uploads);
    RUN(retries_through_faults);
    RUN(retry_policy_reads_the_flag);
    RUN(stall_noticed_on_time);
    RUN(cancel_during_commit);
    RUN(commits_side_by_side);
    RUN(errors_name_connection_and_s3);
    RUN(credentials_chain);
    RUN(assume_role);
    peer_stop();
    return sp_test_done();
}
