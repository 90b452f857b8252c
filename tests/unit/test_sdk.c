// sp-deps: sp_buf sp_error sp_env sp_keys sp_model sp_cron sp_sdk sp_datafile sp_dfwrite sp_project sp_defs sp_time sp_keys_env
/* test_sdk: C-defined definitions validate like datafiles, write exactly
 * what `tinybird generate` writes for the same TypeScript definitions, and
 * round-trip (C -> write -> load -> write gives the same bytes). */
#include <stdlib.h>
#include <unistd.h>

#include "sp_model.h"
#include "sp_test.h"

#define SEED "tests/fixtures/defs/seed"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return s;
}

static void same_file(const char *a, const char *b, const char *rel)
{
    char pa[600], pb[600];
    snprintf(pa, sizeof pa, "%s/%s", a, rel);
    snprintf(pb, sizeof pb, "%s/%s", b, rel);
    size_t la = 0, lb = 0;
    char *x = slurp(pa, &la), *y = slurp(pb, &lb);
    if (!x || !y)
        SP_T_FAIL("missing %s or %s", pa, pb);
    else
        CHECK_MEM(y, lb, x, la);
    free(x);
    free(y);
}

static void rm_rf(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        printf("# cleanup of %s failed\n", path);
}

/* the seed's definitions, as the TypeScript SDK's template literals hold
 * them (8-space indented SQL) */
static sp_project *seed_in_c(const char *dir)
{
    sp_error err = SP_ERROR_INIT;
    sp_project *p = sp_project_new(dir);
    sp_connection *events_kafka = sp_kafka_connection(
        "events_kafka", &(struct sp_kafka_opts){ .bootstrap_servers = "kafka.example.com:9092",
                                                 .security_protocol = "SASL_SSL",
                                                 .sasl_mechanism = "PLAIN",
                                                 .key = SP_SECRET("KAFKA_KEY"),
                                                 .secret = SP_SECRET("KAFKA_SECRET") });
    sp_connection *dw = sp_s3_connection(
        "data_warehouse",
        &(struct sp_s3_opts){ .region = "us-west-2",
                              .arn = "arn:aws:iam::123456789012:role/tinybird-warehouse-access" });
    sp_pipe *k = sp_sink_pipe(
        "kafka_events_sink",
        &(struct sp_sink_pipe_opts){
            .description = "Export events to Kafka",
            .sink = &(struct sp_sink_opts){ .connection = events_kafka,
                                            .topic = "events_export",
                                            .schedule = "@on-demand" },
            .nodes = SP_NODES({ .name = "publish",
                                .sql = "\n        SELECT timestamp, event_type, user_id, payload\n"
                                       "        FROM events\n"
                                       "        WHERE timestamp >= now() - interval 1 hour\n      " }) });
    sp_pipe *d = sp_sink_pipe(
        "daily_export",
        &(struct sp_sink_pipe_opts){
            .description = "Daily export of aggregated events to data warehouse",
            .sink = &(struct sp_sink_opts){ .connection = dw,
                                            .bucket_uri = "s3://data-warehouse/tinybird/daily/",
                                            .file_template = "events_{date}.csv",
                                            .format = "csv",
                                            .schedule = "0 1 * * *",
                                            .strategy = "create_new",
                                            .compression = "gzip" },
            .nodes = SP_NODES({ .name = "daily_aggregation",
                                .sql = "\n        SELECT\n"
                                       "          toDate(timestamp) AS date,\n"
                                       "          event_type,\n"
                                       "          count() AS event_count,\n"
                                       "          uniqExact(user_id) AS unique_users,\n"
                                       "          avg(duration) AS avg_duration\n"
                                       "        FROM events\n"
                                       "        WHERE toDate(timestamp) = yesterday()\n"
                                       "        GROUP BY date, event_type\n"
                                       "        ORDER BY event_count DESC\n      " }) });
    sp_datasource *ds = sp_datasource_new(
        "events",
        &(struct sp_datasource_opts){
            .description = "Raw events",
            .schema = SP_COLUMNS({ "timestamp", "DateTime" }, { "session_id", "String" },
                                 { "event_type", "String" }, { "user_id", "String" },
                                 { "payload", "String" }, { "amount", "Float64" },
                                 { "metadata", "String" }, { "duration", "Float64" }),
            .partition_key = "toYYYYMM(timestamp)",
            .sorting_key = "event_type, timestamp" });
    CHECK_OK(sp_project_add_connection(p, events_kafka, &err), &err);
    CHECK_OK(sp_project_add_connection(p, dw, &err), &err);
    CHECK_OK(sp_project_add_datasource(p, ds, &err), &err);
    CHECK_OK(sp_project_add_pipe(p, k, &err), &err);
    CHECK_OK(sp_project_add_pipe(p, d, &err), &err);
    CHECK_OK(sp_project_check(p, &err), &err);
    return p;
}

TEST(c_seed_matches_generate)
{
    char dir[] = "/tmp/sp-sdk-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    sp_project *p = seed_in_c(dir);
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_project_write(p, dir, &err), &err);
    same_file(SEED, dir, "connections/events_kafka.connection");
    same_file(SEED, dir, "connections/data_warehouse.connection");
    same_file(SEED, dir, "pipes/kafka_events_sink.pipe");
    same_file(SEED, dir, "pipes/daily_export.pipe");
    same_file(SEED, dir, "datasources/events.datasource");
    sp_project_free(p);
    rm_rf(dir);
}

TEST(c_roundtrip)
{
    char dir[] = "/tmp/sp-sdk-XXXXXX", dir2[] = "/tmp/sp-sdk-XXXXXX";
    CHECK(mkdtemp(dir) != NULL && mkdtemp(dir2) != NULL);
    sp_error err = SP_ERROR_INIT;
    sp_project *p = sp_project_new(dir);
    sp_connection *s3 = sp_s3_connection(
        "minio", &(struct sp_s3_opts){ .region = "us-east-1",
                                       .access_key = SP_SECRET("S3_KEY"),
                                       .secret = SP_SECRET_OR("S3_SECRET", "minio123"),
                                       .endpoint = "http://127.0.0.1:9000",
                                       .settings = SP_SETTINGS("S3_PATH_STYLE", "true") });
    sp_connection *kc = sp_kafka_connection(
        "kc", &(struct sp_kafka_opts){ .bootstrap_servers = "localhost:9092",
                                       .security_protocol = "PLAINTEXT",
                                       .ssl_ca_pem = "-----BEGIN-----\nAAA\n-----END-----",
                                       .settings = SP_SETTINGS("KAFKA_PRODUCER_CONFIG",
                                                               "acks=all\nlinger.ms=5") });
    sp_pipe *pp = sp_sink_pipe(
        "tpl",
        &(struct sp_sink_pipe_opts){
            .sink = &(struct sp_sink_opts){ .connection = s3,
                                            .bucket_uri = "s3://bkt/org={org}/",
                                            .file_template = "part_{ts, '%Y-%m-%d'}_{4}",
                                            .format = "ndjson",
                                            .schedule = "*/5 * * * *" },
            .nodes = SP_NODES({ .name = "a", .description = "first", .sql = "SELECT 1 AS x" },
                              { .name = "b",
                                .sql = "SELECT * FROM a WHERE x = {{ Int32(x, 1) }}" }),
            .tokens = SP_TOKENS({ "reader", "READ" }) });
    sp_pipe *kp = sp_sink_pipe(
        "tok",
        &(struct sp_sink_pipe_opts){
            .sink = &(struct sp_sink_opts){ .connection = kc, .topic = "t",
                                            .settings = SP_SETTINGS("EXPORT_KAFKA_KEY", "id") },
            .nodes = SP_NODES({ .name = "n", .sql = "SELECT 1 AS id" }) });
    sp_datasource *ds = sp_datasource_new(
        "raw", &(struct sp_datasource_opts){
                   .schema = SP_COLUMNS({ "id", "UInt64", "$.meta.id" },
                                        { "v", "Nullable(Decimal(10, 2))", NULL, "0", "ZSTD(1)" }),
                   .engine = "ReplacingMergeTree",
                   .sorting_key = "id",
                   .ver = "id",
                   .tokens = SP_TOKENS({ "ingest", "APPEND" }) });
    CHECK_OK(sp_project_add_connection(p, s3, &err), &err);
    CHECK_OK(sp_project_add_connection(p, kc, &err), &err);
    CHECK_OK(sp_project_add_datasource(p, ds, &err), &err);
    CHECK_OK(sp_project_add_pipe(p, pp, &err), &err);
    CHECK_OK(sp_project_add_pipe(p, kp, &err), &err);
    CHECK_OK(sp_project_check(p, &err), &err);
    CHECK_OK(sp_project_write(p, dir, &err), &err);
    sp_project *q = NULL;
    CHECK_OK(sp_project_load(dir, &q, &err), &err);
    if (q) {
        CHECK_INT(sp_project_npipes(q), 2);
        CHECK_OK(sp_project_write(q, dir2, &err), &err);
        const char *files[] = { "connections/minio.connection", "connections/kc.connection",
                                "pipes/tpl.pipe", "pipes/tok.pipe", "datasources/raw.datasource" };
        for (size_t i = 0; i < 5; i++)
            same_file(dir, dir2, files[i]);
        const sp_pipe *t = sp_project_find_pipe(q, "tpl");
        CHECK(t && t->nnodes == 2 && t->nodes[1].templated == 1 && t->nodes[0].templated == 0);
    }
    size_t n;
    char path[600];
    snprintf(path, sizeof path, "%s/pipes/tpl.pipe", dir);
    char *text = slurp(path, &n);
    CHECK_STR(text, "NODE a\nDESCRIPTION >\n    first\nSQL >\n    SELECT 1 AS x\n\n"
                    "NODE b\nSQL >\n    %\n    SELECT * FROM a WHERE x = {{ Int32(x, 1) }}\n\n"
                    "TYPE sink\nEXPORT_CONNECTION_NAME minio\nEXPORT_BUCKET_URI s3://bkt/org={org}/\n"
                    "EXPORT_FILE_TEMPLATE part_{ts, '%Y-%m-%d'}_{4}\nEXPORT_SCHEDULE */5 * * * *\n"
                    "EXPORT_FORMAT ndjson\n\nTOKEN reader READ");
    free(text);
    sp_project_free(q);
    sp_project_free(p);
    rm_rf(dir);
    rm_rf(dir2);
}

TEST(c_validation)
{
    sp_error err = SP_ERROR_INIT;
    sp_project *p = sp_project_new(NULL);
    sp_connection *c = sp_kafka_connection("k", &(struct sp_kafka_opts){ .key = "u" });
    CHECK_INT(sp_project_add_connection(p, c, &err), SP_EDEF); /* c is freed */
    CHECK_STR(err.msg, "k: KAFKA_BOOTSTRAP_SERVERS: required key is missing "
                       "(host:port[,host:port...])");
    sp_error_clear(&err);
    c = sp_kafka_connection("k", &(struct sp_kafka_opts){ .bootstrap_servers = "h:1",
                                                          .sasl_mechanism = "KERBEROS" });
    CHECK_INT(sp_project_add_connection(p, c, &err), SP_EDEF);
    CHECK_STR(err.msg, "k: KAFKA_SASL_MECHANISM: unknown mechanism 'KERBEROS' (expected PLAIN, "
                       "SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER)");
    sp_error_clear(&err);
    c = sp_kafka_connection("k", &(struct sp_kafka_opts){ .bootstrap_servers = "h:1" });
    CHECK_OK(sp_project_add_connection(p, c, &err), &err);
    sp_connection *dup = sp_kafka_connection("k", &(struct sp_kafka_opts){ .bootstrap_servers = "x" });
    CHECK_INT(sp_project_add_connection(p, dup, &err), SP_EEXIST);
    CHECK_STR(err.msg, "k: name 'k' is already used by a connection");
    sp_error_clear(&err);
    sp_pipe *pp = sp_sink_pipe(
        "bad pipe", &(struct sp_sink_pipe_opts){
                        .sink = &(struct sp_sink_opts){ .connection = c, .topic = "t" },
                        .nodes = SP_NODES({ .name = "n", .sql = "SELECT 1" }) });
    CHECK_INT(sp_project_add_pipe(p, pp, &err), SP_EDEF);
    CHECK_STR(err.msg, "bad pipe: invalid name (expected letters, digits and _, not starting "
                       "with a digit)");
    sp_error_clear(&err);
    pp = sp_sink_pipe("p", &(struct sp_sink_pipe_opts){
                               .sink = &(struct sp_sink_opts){ .connection = c, .topic = "t",
                                                               .format = "parquet" },
                               .nodes = SP_NODES({ .name = "n", .sql = "SELECT 1" }) });
    CHECK_INT(sp_project_add_pipe(p, pp, &err), SP_EDEF);
    CHECK_STR(err.msg, "p: EXPORT_FORMAT: parquet is a file format: a kafka sink "
                       "(EXPORT_KAFKA_TOPIC) sends one JSON message per row; remove "
                       "EXPORT_FORMAT or export to EXPORT_BUCKET_URI");
    sp_error_clear(&err);
    pp = sp_sink_pipe("p", &(struct sp_sink_pipe_opts){
                               .sink = &(struct sp_sink_opts){ .connection = c, .topic = "t",
                                                               .schedule = "every hour" },
                               .nodes = SP_NODES({ .name = "n", .sql = "SELECT 1" }) });
    CHECK_INT(sp_project_add_pipe(p, pp, &err), SP_EDEF);
    CHECK_STR(err.msg, "p: EXPORT_SCHEDULE: invalid schedule 'every hour': position 1: expected "
                       "a minute value (0-59)");
    CHECK_INT(sp_project_ndiag(p), 6);
    CHECK_INT(sp_project_npipes(p), 0);
    CHECK_INT(sp_project_nconnections(p), 1);
    sp_project_free(p);
}

int main(void)
{
    RUN(c_seed_matches_generate);
    RUN(c_roundtrip);
    RUN(c_validation);
    return sp_test_done();
}
