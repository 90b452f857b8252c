// sp-deps: sp_buf sp_error sp_env sp_keys sp_model sp_cron sp_sdk sp_datafile sp_dfwrite sp_project sp_sinkcfg sp_defs sp_type sp_batch sp_dtoa sp_format sp_format_* sp_thrift sp_rle sp_date sp_time sp_keys_env sp_ch_escape
/* test_env: .env precedence, tb_secret resolution, connection overrides,
 * missing-secret diagnostics, secrets kept out of messages, sink configs. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sp_env.h"
#include "sp_keys.h"
#include "sp_model.h"
#include "sp_sink.h"
#include "sp_test.h"

static void put_file(const char *dir, const char *rel, const char *text)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdir(path, 0755);
    *slash = '/';
    FILE *f = fopen(path, "wb");
    if (!f) {
        SP_T_FAIL("cannot write %s", path);
        return;
    }
    fputs(text, f);
    fclose(f);
}

static void rm_rf(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        printf("# cleanup of %s failed\n", path);
}

TEST(dotenv_precedence)
{
    char dir[] = "/tmp/sp-env-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    put_file(dir, ".env.local", "SPT_A=local\nSPT_B='local b'\n");
    put_file(dir, ".env", "# comment\n\nSPT_A=env\nSPT_B=env\nSPT_C=env c # trailing\n"
                          "export SPT_D=\"quoted # not a comment\"\nSPT_E=\n");
    setenv("SPT_A", "process", 1);
    sp_env *e = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_env_open(dir, &e, &err), &err);
    CHECK_STR(sp_env_get(e, "SPT_A"), "process");
    CHECK_STR(sp_env_get(e, "SPT_B"), "local b");
    CHECK_STR(sp_env_get(e, "SPT_C"), "env c");
    CHECK_STR(sp_env_get(e, "SPT_D"), "quoted # not a comment");
    CHECK_STR(sp_env_get(e, "SPT_E"), "");
    CHECK(sp_env_get(e, "SPT_NOPE") == NULL);
    sp_env_free(e);
    unsetenv("SPT_A");

    put_file(dir, ".env", "SPT_OK=1\nthis is not an assignment\n");
    e = NULL;
    CHECK_INT(sp_env_open(dir, &e, &err), SP_EDEF);
    char want[300];
    snprintf(want, sizeof want, "%s/.env:2: expected NAME=value", dir);
    CHECK_STR(err.msg, want);
    CHECK(e == NULL);
    /* a BOM is skipped; a NUL would cut the file short: refused at its line */
    put_file(dir, ".env", "\xEF\xBB\xBFSPT_F=bom\n");
    CHECK_OK(sp_env_open(dir, &e, &err), &err);
    CHECK_STR(sp_env_get(e, "SPT_F"), "bom");
    sp_env_free(e);
    e = NULL;
    char path[300];
    snprintf(path, sizeof path, "%s/.env", dir);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite("SPT_G=a\nSPT_H=b\0c\nSPT_I=d\n", 1, 24, f);
        fclose(f);
    }
    sp_error_clear(&err);
    CHECK_INT(sp_env_open(dir, &e, &err), SP_EDEF);
    snprintf(want, sizeof want, "%s/.env:2: NUL byte in the file", dir);
    CHECK_STR(err.msg, want);
    CHECK(e == NULL);
    rm_rf(dir);
}

TEST(resolve_secrets)
{
    sp_env *e = sp_env_new_empty();
    sp_env_set(e, "X", "x-value");
    char *out = NULL;
    int used = -1;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_env_resolve(e, "{{ tb_secret(\"X\") }}", "w", &out, &used, &err), &err);
    CHECK_STR(out, "x-value");
    CHECK_INT(used, 1);
    free(out);
    CHECK_OK(sp_env_resolve(e, "a-{{tb_secret('Y','dflt')}}-{{ tb_secret( \"X\" , 'd' ) }}", "w",
                            &out, &used, &err),
             &err);
    CHECK_STR(out, "a-dflt-x-value");
    free(out);
    CHECK_OK(sp_env_resolve(e, "plain {{ other }}", "w", &out, &used, &err), &err);
    CHECK_STR(out, "plain {{ other }}");
    CHECK_INT(used, 0);
    free(out);
    out = NULL;
    CHECK_INT(sp_env_resolve(e, "{{ tb_secret(\"X\") }}:{{ tb_secret(\"NOPE\") }}",
                             "connections/k.connection:5: KAFKA_KEY", &out, &used, &err),
              SP_ESECRET);
    CHECK_STR(err.msg, "connections/k.connection:5: KAFKA_KEY: secret 'NOPE' is not set "
                       "(environment, .env.local, .env)");
    CHECK(strstr(err.msg, "x-value") == NULL);
    CHECK(out == NULL);
    sp_env_free(e);
}

TEST(overrides)
{
    sp_connection *c = sp_kafka_connection(
        "k", &(struct sp_kafka_opts){ .bootstrap_servers = "h:1",
                                      .key = SP_SECRET("SPT_USER"),
                                      .secret = SP_SECRET("SPT_PASS"),
                                      .schema_registry_url = "http://r" });
    sp_env *e = sp_env_new_empty();
    sp_env_set(e, "SPT_USER", "alice");
    sp_env_set(e, "SPT_PASS", "hunter2");
    sp_env_set(e, "SINKPIPE_CONNECTION__k__KAFKA_BOOTSTRAP_SERVERS", "localhost:9092");
    sp_env_set(e, "SINKPIPE_CONNECTION__k__KAFKA_SCHEMA_REGISTRY_URL", "");
    sp_env_set(e, "SINKPIPE_CONNECTION__k__KAFKA_SECURITY_PROTOCOL", "PLAINTEXT");
    sp_env_set(e, "SINKPIPE_CONNECTION__k__KAFKA_SSL_CA_PEM", SP_SECRET_OR("SPT_CA", "ca"));
    sp_env_set(e, "SINKPIPE_CONNECTION__other__KAFKA_KEY", "no");
    sp_settings s;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_connection_resolve(c, e, &s, &err), &err);
    CHECK_STR(sp_settings_get(&s, "KAFKA_BOOTSTRAP_SERVERS"), "localhost:9092");
    CHECK(sp_settings_get(&s, "KAFKA_SCHEMA_REGISTRY_URL") == NULL);
    CHECK_STR(sp_settings_get(&s, "KAFKA_SECURITY_PROTOCOL"), "PLAINTEXT");
    CHECK_STR(sp_settings_get(&s, "KAFKA_SASL_MECHANISM"), "PLAIN"); /* default */
    CHECK_STR(sp_settings_get(&s, "KAFKA_KEY"), "alice");
    CHECK_STR(sp_settings_get(&s, "KAFKA_SSL_CA_PEM"), "ca");
    for (size_t i = 0; i < s.n; i++) {
        int want = strcmp(s.v[i].key, "KAFKA_KEY") == 0 || strcmp(s.v[i].key, "KAFKA_SECRET") == 0 ||
                   strcmp(s.v[i].key, "KAFKA_SSL_CA_PEM") == 0;
        if (s.v[i].secret != want)
            SP_T_FAIL("%s: secret flag %d, want %d", s.v[i].key, s.v[i].secret, want);
    }
    sp_settings_release(&s);

    /* a missing secret: named, value-free message */
    sp_env_set(e, "SINKPIPE_CONNECTION__k__KAFKA_SECRET", SP_SECRET("SPT_MISSING"));
    CHECK_INT(sp_connection_resolve(c, e, &s, &err), SP_ESECRET);
    CHECK_STR(err.msg, "SINKPIPE_CONNECTION__k__KAFKA_SECRET: secret 'SPT_MISSING' is not set "
                       "(environment, .env.local, .env)");
    CHECK(strstr(err.msg, "hunter2") == NULL && strstr(err.msg, "alice") == NULL);
    CHECK(s.n == 0 && s.v == NULL);
    sp_env_free(e);
    sp_connection_free(c);
}

static const char pipe_file[] = "NODE n\nSQL >\n    SELECT 1\n\nTYPE sink\n"
                                "EXPORT_CONNECTION_NAME k\nEXPORT_KAFKA_TOPIC t\n";

TEST(check_secrets_and_sinkcfg)
{
    char dir[] = "/tmp/sp-env-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    unsetenv("SPT_KAFKA_KEY");
    unsetenv("SPT_KAFKA_SECRET");
    put_file(dir, "connections/k.connection",
             "TYPE kafka\nKAFKA_BOOTSTRAP_SERVERS h:1\n\n# credentials\n"
             "KAFKA_KEY {{ tb_secret(\"SPT_KAFKA_KEY\") }}\n"
             "KAFKA_SECRET {{ tb_secret(\"SPT_KAFKA_SECRET\") }}\n");
    put_file(dir, "pipes/to_kafka.pipe", pipe_file);
    put_file(dir, "pipes/to_dir.pipe",
             "NODE n\nSQL >\n    SELECT 1\n\nTYPE sink\nEXPORT_BUCKET_URI file:///tmp/x/\n"
             "EXPORT_FILE_TEMPLATE out\nEXPORT_FORMAT ndjson\n");
    put_file(dir, ".env", "SPT_KAFKA_SECRET=s3cr3t-value\n");
    sp_project *p = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_project_load(dir, &p, &err), &err); /* loading needs no secret */
    if (!p)
        goto out;
    CHECK_INT(sp_project_check_secrets(p, &err), SP_ESECRET);
    CHECK_INT(sp_project_ndiag(p), 1);
    CHECK_STR(sp_project_diag(p, 0),
              "connections/k.connection:5: KAFKA_KEY: secret 'SPT_KAFKA_KEY' is not set "
              "(environment, .env.local, .env)");

    sp_sinkcfg cfg;
    sp_error_clear(&err);
    CHECK_INT(sp_sinkcfg_build(p, sp_project_find_pipe(p, "to_kafka"), NULL, &cfg, &err),
              SP_ESECRET);
    CHECK(strstr(err.msg, "s3cr3t") == NULL);

    sp_error_clear(&err);
    struct sp_run_opts o = { .size = sizeof o, .format = "xml" };
    CHECK_INT(sp_sinkcfg_build(p, sp_project_find_pipe(p, "to_dir"), &o, &cfg, &err),
              SP_EPARAM);
    CHECK_STR(err.msg, "pipe 'to_dir': EXPORT_FORMAT: unknown format 'xml' (expected csv, ndjson, parquet)");
    sp_error_clear(&err);
    o = (struct sp_run_opts){ .size = sizeof o, .compression = "GZIP", .strategy = "truncate",
                              .file_template = "x_{date}" };
    CHECK_OK(sp_sinkcfg_build(p, sp_project_find_pipe(p, "to_dir"), &o, &cfg, &err), &err);
    CHECK_STR(cfg.format, "ndjson");
    CHECK_STR(cfg.compression, "gzip");
    CHECK_INT(cfg.strategy, SP_STRATEGY_REPLACE);
    CHECK_STR(cfg.file_template, "x_{date}");
    CHECK_STR(cfg.bucket_uri, "file:///tmp/x/");
    CHECK(cfg.connection_name == NULL);
    CHECK_INT(cfg.conn_type, SP_CONN_S3);
    sp_sinkcfg_release(&cfg);

    setenv("SPT_KAFKA_KEY", "bob", 1);
    sp_project_free(p);
    p = NULL;
    CHECK_OK(sp_project_load(dir, &p, &err), &err);
    CHECK_OK(sp_project_check_secrets(p, &err), &err);
    CHECK_OK(sp_sinkcfg_build(p, sp_project_find_pipe(p, "to_kafka"), NULL, &cfg, &err), &err);
    CHECK_STR(sp_settings_get(&cfg.conn, "KAFKA_KEY"), "bob");
    CHECK_STR(sp_settings_get(&cfg.conn, "KAFKA_SECRET"), "s3cr3t-value");
    CHECK_STR(cfg.topic, "t");
    CHECK_STR(cfg.format, "csv");
    CHECK_STR(cfg.schedule, "@on-demand");
    CHECK_INT(cfg.conn_type, SP_CONN_KAFKA);
    sp_sinkcfg_release(&cfg);
    unsetenv("SPT_KAFKA_KEY");
out:
    sp_project_free(p);
    rm_rf(dir);
}

/* environment settings: typed, ranged, defaults from the table, an invalid
 * value an error naming the variable, never a silent default */
TEST(settings_table)
{
    sp_env *e = sp_env_new_empty();
    sp_error err = SP_ERROR_INIT;
    int64_t n = -1;
    CHECK_OK(sp_keys_env_int(e, "SINKPIPE_S3_THREADS", &n, &err), &err);
    CHECK_INT(n, 4); /* the table's default */
    n = -1;
    CHECK_OK(sp_keys_env_int(e, "SINKPIPE_S3_MAX_INFLIGHT", &n, &err), &err);
    CHECK_INT(n, -1); /* no default: the caller's stands */
    sp_env_set(e, "SINKPIPE_S3_THREADS", "8");
    CHECK_OK(sp_keys_env_int(e, "SINKPIPE_S3_THREADS", &n, &err), &err);
    CHECK_INT(n, 8);
    const char *bad[] = { "many", "0", "65", "8x", "+8", "", NULL };
    for (int i = 0; bad[i]; i++) {
        sp_env_set(e, "SINKPIPE_S3_THREADS", bad[i]);
        sp_error_clear(&err);
        n = 8;
        int rc = sp_keys_env_int(e, "SINKPIPE_S3_THREADS", &n, &err);
        if (!*bad[i]) { /* empty counts as unset */
            CHECK_INT(rc, 0);
            CHECK_INT(n, 4);
            continue;
        }
        CHECK_INT(rc, SP_EINVAL);
        char want[128];
        snprintf(want, sizeof want,
                 "SINKPIPE_S3_THREADS: '%s' is not a whole number from 1 to 64", bad[i]);
        CHECK_STR(err.msg, want);
    }
    double d = 0;
    sp_env_set(e, "SINKPIPE_SERVE_GRACE", "2.5");
    CHECK_OK(sp_keys_env_num(e, "SINKPIPE_SERVE_GRACE", &d, &err), &err);
    CHECK_INT((int)(d * 10), 25);
    sp_env_set(e, "SINKPIPE_SERVE_GRACE", "-1");
    sp_error_clear(&err);
    CHECK_INT(sp_keys_env_num(e, "SINKPIPE_SERVE_GRACE", &d, &err), SP_EINVAL);
    CHECK_STR(err.msg, "SINKPIPE_SERVE_GRACE: '-1' is not a number from 0 to 86400");
    int b = 0;
    CHECK_OK(sp_keys_env_bool(e, "SINKPIPE_SERVE_CATCH_UP", &b, &err), &err);
    CHECK_INT(b, 1);
    sp_env_set(e, "SINKPIPE_SERVE_CATCH_UP", "FALSE");
    CHECK_OK(sp_keys_env_bool(e, "SINKPIPE_SERVE_CATCH_UP", &b, &err), &err);
    CHECK_INT(b, 0);
    sp_env_set(e, "SINKPIPE_SERVE_CATCH_UP", "maybe");
    sp_error_clear(&err);
    CHECK_INT(sp_keys_env_bool(e, "SINKPIPE_SERVE_CATCH_UP", &b, &err), SP_EINVAL);
    CHECK_STR(err.msg, "SINKPIPE_SERVE_CATCH_UP: 'maybe' is not true or false");
    const char *w = NULL;
    CHECK_OK(sp_keys_env_enum(e, "SINKPIPE_ENGINE", &w, &err), &err);
    CHECK_STR(w, "embedded");
    sp_env_set(e, "SINKPIPE_ENGINE", "duckdb");
    sp_error_clear(&err);
    CHECK_INT(sp_keys_env_enum(e, "SINKPIPE_ENGINE", &w, &err), SP_EINVAL);
    CHECK_STR(err.msg, "SINKPIPE_ENGINE: unknown engine 'duckdb' (expected embedded, clickhouse)");
    /* a name outside the tables, or read as another type: a programming
     * error, not a default */
    sp_error_clear(&err);
    CHECK_INT(sp_keys_env_int(e, "SINKPIPE_NO_SUCH", &n, &err), SP_EINTERNAL);
    sp_error_clear(&err);
    CHECK_INT(sp_keys_env_int(e, "SINKPIPE_ENGINE", &n, &err), SP_EINTERNAL);
    CHECK_INT(sp_keys_env_get(e, "SINKPIPE_NO_SUCH") == NULL, 1);
    /* families */
    sp_env_set(e, "SINKPIPE_TOKEN_reader", "v");
    CHECK_STR(sp_keys_env_get(e, "SINKPIPE_TOKEN_reader"), "v");
    CHECK_INT(sp_keys_env_def("SINKPIPE_TOKEN_") == NULL, 1);
    CHECK_STR(sp_keys_env_get(e, "AWS_PROFILE"), "default");
    CHECK_STR(sp_keys_env_get(NULL, "AWS_PROFILE"), "default");
    sp_env_free(e);
}

/* the table itself: every entry documented, every default of its own type
 * and range (the getters parse the default like a value) */
TEST(settings_table_defaults)
{
    sp_env *e = sp_env_new_empty();
    for (size_t t = 0; sp_keys_env_tables[t]; t++)
        for (size_t i = 0; i < sp_keys_env_tables[t]->n; i++) {
            const sp_keydef *d = &sp_keys_env_tables[t]->keys[i];
            sp_error err = SP_ERROR_INIT;
            int rc = 0;
            int64_t n;
            double x;
            int b;
            const char *v;
            if (strchr(d->key, '<'))
                continue;
            switch (d->type) {
            case SP_KT_INT: rc = sp_keys_env_int(e, d->key, &n, &err); break;
            case SP_KT_NUM: rc = sp_keys_env_num(e, d->key, &x, &err); break;
            case SP_KT_BOOL: rc = sp_keys_env_bool(e, d->key, &b, &err); break;
            case SP_KT_ENUM: rc = sp_keys_env_enum(e, d->key, &v, &err); break;
            default: break;
            }
            if (rc || !d->doc || !*d->doc || sp_keys_env_def(d->key) != d)
                printf("# %s: %s\n", d->key, err.msg);
            CHECK_INT(rc, 0);
            CHECK_INT(d->doc && *d->doc, 1);
            CHECK_INT(sp_keys_env_def(d->key) == d, 1); /* no duplicates */
        }
    sp_env_free(e);
}

int main(void)
{
    RUN(settings_table);
    RUN(settings_table_defaults);
    RUN(dotenv_precedence);
    RUN(resolve_secrets);
    RUN(overrides);
    RUN(check_secrets_and_sinkcfg);
    return sp_test_done();
}
