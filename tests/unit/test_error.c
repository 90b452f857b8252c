// sp-deps: all
/* test_error: how failures are classified (docs/errors.md): the default of
 * each code, explicit overrides, copies that keep the flag, and the tables
 * that classify HTTP answers, curl failures and ClickHouse exceptions.  The
 * retry policies that read the flag are proven against injected faults in
 * test_store_s3 (retry_policy_reads_the_flag) and tests/e2e/gcs.sh. */
#include "sp_test.h"

#include <curl/curl.h>

#include "sp_ch_tsv.h"
#include "sp_curlx.h"
#include "sp_error.h"
#include "sp_model.h"

#include <unistd.h>

static int flag_of(int code, int retriable)
{
    sp_error e = SP_ERROR_INIT;
    sp_error_set(&e, code, retriable, "x");
    return e.retriable;
}

TEST(default_class_of_each_code)
{
    /* transient by nature: the network, a resource held for a while */
    CHECK_INT(flag_of(SP_ENET, SP_BYCODE), 1);
    CHECK_INT(flag_of(SP_EBUSY, SP_BYCODE), 1);
    /* fatal: the same call fails the same way */
    static const int fatal[] = { SP_EINVAL, SP_EDEF, SP_ENOMEM, SP_EIO, SP_ENOTFOUND,
                                 SP_EEXIST, SP_ESECRET, SP_EPARAM, SP_ESQL, SP_EENGINE,
                                 SP_EFORMAT, SP_ECODEC, SP_ESINK, SP_ECANCELLED, SP_ETOOBIG,
                                 SP_EDATA, SP_EAUTH, SP_EUNSUPPORTED, SP_EINTERNAL };
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        if (flag_of(fatal[i], SP_BYCODE) != 0)
            SP_T_FAIL("%s: retriable by default", sp_strerror(fatal[i]));
}

TEST(site_overrides_the_code)
{
    CHECK_INT(flag_of(SP_ENET, SP_FATAL), 0);
    CHECK_INT(flag_of(SP_EBUSY, SP_FATAL), 0);
    CHECK_INT(flag_of(SP_ESINK, SP_RETRIABLE), 1);
    CHECK_INT(flag_of(SP_ESQL, SP_RETRIABLE), 1);
    CHECK_INT(flag_of(SP_ESINK, 7), 1);
    CHECK_INT(flag_of(SP_ENET, -3), 0);
}

TEST(copies_keep_the_flag)
{
    sp_error a = SP_ERROR_INIT, b = SP_ERROR_INIT, c = SP_ERROR_INIT;
    sp_error_set(&a, SP_ENET, SP_FATAL, "connection 'c': host: could not resolve");
    CHECK_INT(sp_error_copy(&b, &a), SP_ENET);
    CHECK_INT(b.retriable, 0);
    CHECK_STR(b.msg, a.msg);
    /* as an argument: the copy's flag, never the code's default */
    sp_error_set(&c, a.code, sp_error_flag(&a), "%s (again)", a.msg);
    CHECK_INT(c.retriable, 0);
    /* first failure wins for copies too */
    sp_error d = SP_ERROR_INIT;
    sp_error_set(&d, SP_EDEF, 0, "first");
    sp_error_copy(&d, &a);
    CHECK_INT(d.code, SP_EDEF);
    CHECK_STR(d.msg, "first");
}

TEST(http_answers)
{
    static const long retriable[] = { 408, 429, 500, 502, 503, 504, 599 };
    static const long fatal[] = { 200, 301, 400, 401, 403, 404, 405, 409, 412, 413, 501 };
    for (size_t i = 0; i < sizeof retriable / sizeof retriable[0]; i++)
        if (!sp_curlx_status_retriable(retriable[i]))
            SP_T_FAIL("HTTP %ld: fatal", retriable[i]);
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        if (sp_curlx_status_retriable(fatal[i]))
            SP_T_FAIL("HTTP %ld: retriable", fatal[i]);
}

TEST(curl_failures)
{
    CHECK_INT(sp_curlx_transient(CURLE_COULDNT_CONNECT), 1);
    CHECK_INT(sp_curlx_transient(CURLE_OPERATION_TIMEDOUT), 1);
    CHECK_INT(sp_curlx_transient(CURLE_RECV_ERROR), 1);
    CHECK_INT(sp_curlx_transient(CURLE_GOT_NOTHING), 1);
    CHECK_INT(sp_curlx_transient(CURLE_URL_MALFORMAT), 0);
    CHECK_INT(sp_curlx_transient(CURLE_PEER_FAILED_VERIFICATION), 0);
}

TEST(clickhouse_exceptions)
{
    /* the server was short of something: retriable */
    static const int retriable[] = { 159, 202, 203, 209, 210, 242, 252, 285, 473, 999 };
    /* the statement is wrong: SYNTAX_ERROR, UNKNOWN_TABLE, UNKNOWN_IDENTIFIER,
     * UNKNOWN_FUNCTION, TYPE_MISMATCH, READONLY, MEMORY_LIMIT_EXCEEDED */
    static const int fatal[] = { 62, 60, 47, 46, 53, 164, 241 };
    for (size_t i = 0; i < sizeof retriable / sizeof retriable[0]; i++)
        if (sp_ch_code_retriable(retriable[i]) != SP_RETRIABLE)
            SP_T_FAIL("code %d: fatal", retriable[i]);
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        if (sp_ch_code_retriable(fatal[i]) != SP_FATAL)
            SP_T_FAIL("code %d: retriable", fatal[i]);
    /* an exception in a streamed answer keeps its class */
    char msg[200];
    const char *t = "Code: 202. DB::Exception: Too many simultaneous queries. Maximum: 1. "
                    "(TOO_MANY_SIMULTANEOUS_QUERIES) (version 24.1.1.1)";
    CHECK_INT(sp_ch_exception(t, strlen(t), msg, sizeof msg), 202);
}

TEST(errors_carry_their_place_and_pipe)
{
    sp_error e = SP_ERROR_INIT;
    /* a message that names the pipe says so in a field */
    CHECK_INT(sp_error_set_pipe(&e, "p1", SP_EDEF, 0, "pipe '%s': no node", "p1"), SP_EDEF);
    CHECK_STR(e.pipe, "p1");
    CHECK_STR(e.msg, "pipe 'p1': no node");
    /* first failure wins: a later error names nothing */
    sp_error_set_pipe(&e, "p2", SP_ESINK, 0, "pipe '%s': later", "p2");
    CHECK_STR(e.pipe, "p1");
    sp_error_clear(&e);
    CHECK_STR(e.pipe, "");
    /* a prefix added at a boundary, then recorded */
    sp_error_set(&e, SP_ESQL, 0, "clickhouse: unknown table");
    CHECK_STR(e.pipe, "");
    sp_error_prefix(&e, "pipe '%s'", "p3");
    sp_error_name_pipe(&e, "p3");
    sp_error_name_pipe(&e, "p4");
    CHECK_STR(e.pipe, "p3");
    CHECK_STR(e.msg, "pipe 'p3': clickhouse: unknown table");
    /* a place: recorded once, kept by copies, dropped by clear */
    sp_error_locate(&e, "pipes/x.pipe", 7, "SQL");
    sp_error_locate(&e, "other", 9, "TYPE");
    CHECK_STR(e.path, "pipes/x.pipe");
    CHECK_INT(e.line, 7);
    CHECK_STR(e.key, "SQL");
    sp_error c = SP_ERROR_INIT;
    sp_error_copy(&c, &e);
    CHECK_STR(c.path, "pipes/x.pipe");
    CHECK_STR(c.pipe, "p3");
    sp_error_clear(&e);
    CHECK_STR(e.path, "");
    CHECK_INT(e.line, 0);
    /* an empty record takes no place */
    sp_error_locate(&e, "a", 1, "B");
    CHECK_STR(e.path, "");
}

/* `check` of connections: the reason is cut by the length of the client's
 * message head (never found in the text); the diagnostic has its fields */
static const char *const conn_files[][2] = {
    { "s.connection", "TYPE s3\nS3_REGION Mars_1\nS3_ACCESS_KEY a\nS3_SECRET b\n" },
    { "k.connection", "TYPE kafka\nKAFKA_BOOTSTRAP_SERVERS h:9092\nKAFKA_PRODUCER_CONFIG >\n"
                      "    acks=all\n    linger.ms=abc\n" },
    /* refused by rd_kafka_new, not by a setter: the key is found by trying */
    { "t.connection", "TYPE kafka\nKAFKA_BOOTSTRAP_SERVERS h:9092\nKAFKA_SECURITY_PROTOCOL "
                      "SSL\nKAFKA_SSL_CA_PEM not a certificate\n" },
};
#define NCONN (sizeof conn_files / sizeof conn_files[0])

TEST(connection_check_diagnostics)
{
    char dir[] = "/tmp/sp-err-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    for (size_t i = 0; i < NCONN; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, conn_files[i][0]);
        FILE *f = fopen(path, "w");
        CHECK(f != NULL);
        if (f) {
            fputs(conn_files[i][1], f);
            fclose(f);
        }
    }
    sp_project *p = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_project_load(dir, &p, &err), &err);
    CHECK_INT(sp_project_check_s3(p, &err), SP_EDEF);
    sp_error_clear(&err);
    CHECK_INT(sp_project_check_kafka(p, &err), SP_EDEF);
    CHECK_INT(sp_project_ndiag(p), 3);
    const sp_diag *d = sp_project_diag_at(p, 0);
    CHECK_STR(sp_project_diag(p, 0), "s.connection:2: S3_REGION: 'Mars_1' is not a region "
                                     "name (e.g. us-east-1)");
    CHECK(d && d->path && d->key && !strcmp(d->path, "s.connection") && d->line == 2 &&
          !strcmp(d->key, "S3_REGION") && d->code == SP_EDEF);
    d = sp_project_diag_at(p, 1);
    const char *k = sp_project_diag(p, 1);
    CHECK(k && strncmp(k, "k.connection:3: KAFKA_PRODUCER_CONFIG: line 2: ", 47) == 0);
    CHECK(d && d->key && !strcmp(d->key, "KAFKA_PRODUCER_CONFIG") && d->line == 3);
    d = sp_project_diag_at(p, 2);
    const char *t = sp_project_diag(p, 2);
    const char *want = "t.connection:4: KAFKA_SSL_CA_PEM: librdkafka rejects the configuration: ";
    if (!t || strncmp(t, want, strlen(want)))
        SP_T_FAIL("%s", t ? t : "(none)");
    CHECK(d && d->key && !strcmp(d->key, "KAFKA_SSL_CA_PEM") && d->line == 4);
    sp_project_free(p);
    for (size_t i = 0; i < NCONN; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, conn_files[i][0]);
        unlink(path);
    }
    rmdir(dir);
}

int main(void)
{
    RUN(default_class_of_each_code);
    RUN(site_overrides_the_code);
    RUN(copies_keep_the_flag);
    RUN(http_answers);
    RUN(curl_failures);
    RUN(clickhouse_exceptions);
    RUN(errors_carry_their_place_and_pipe);
    RUN(connection_check_diagnostics);
    return sp_test_done();
}
