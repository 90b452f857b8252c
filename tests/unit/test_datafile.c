// sp-deps: sp_buf sp_error sp_keys sp_model sp_env sp_cron sp_sdk sp_datafile sp_dfwrite sp_project sp_defs sp_time sp_keys_env
/* test_datafile: datafile parsing, validation messages, project loading and
 * byte-exact writing (`tinybird generate` layout). */
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sp_keys.h"
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

static void rm_rf(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        printf("# cleanup of %s failed\n", path);
}

/* compare_dirs: every file under a/sub equals b/sub; returns the count */
static int compare_sub(const char *a, const char *b, const char *sub)
{
    char pa[600], pb[600];
    snprintf(pa, sizeof pa, "%s/%s", a, sub);
    DIR *d = opendir(pa);
    int n = 0;
    if (!d) {
        SP_T_FAIL("cannot open %s", pa);
        return 0;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(pa, sizeof pa, "%s/%s/%s", a, sub, de->d_name);
        snprintf(pb, sizeof pb, "%s/%s/%s", b, sub, de->d_name);
        size_t la = 0, lb = 0;
        char *x = slurp(pa, &la), *y = slurp(pb, &lb);
        if (!x || !y)
            SP_T_FAIL("missing %s or %s", pa, pb);
        else
            CHECK_MEM(y, lb, x, la);
        free(x);
        free(y);
        n++;
    }
    closedir(d);
    return n;
}

static int compare_project(const char *a, const char *b)
{
    return compare_sub(a, b, "connections") + compare_sub(a, b, "pipes") +
           compare_sub(a, b, "datasources");
}

TEST(seed_loads)
{
    sp_project *p = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_project_load(SEED, &p, &err), &err);
    CHECK(p != NULL);
    if (!p)
        return;
    CHECK_INT(sp_project_nconnections(p), 7);
    CHECK_INT(sp_project_npipes(p), 6);
    CHECK_INT(sp_project_ndatasources(p), 1);
    CHECK_INT(sp_project_ndiag(p), 0);
    const sp_pipe *pi = sp_project_find_pipe(p, "daily_export");
    CHECK(pi != NULL);
    if (pi) {
        CHECK_STR(sp_pipe_schedule(pi), "0 1 * * *");
        CHECK_STR(sp_pipe_service(pi), "s3");
        sp_sink_def s;
        CHECK_OK(sp_pipe_sink(pi, &s, &err), &err);
        CHECK_STR(s.compression, "gzip");
        CHECK_STR(s.connection, "data_warehouse");
        CHECK_STR(s.file_template, "events_{date}.csv");
        CHECK_STR(pi->nodes[0].name, "daily_aggregation");
        CHECK(strncmp(pi->nodes[0].sql, "SELECT\n          toDate(timestamp)", 34) == 0);
    }
    pi = sp_project_find_pipe(p, "kafka_events_sink");
    CHECK(pi && strcmp(sp_pipe_service(pi), "kafka") == 0);
    CHECK_STR(pi ? sp_pipe_schedule(pi) : NULL, "@on-demand");
    const sp_datasource *d = sp_project_find_datasource(p, "events");
    CHECK(d && d->ncols == 8);
    if (d) {
        CHECK_STR(d->cols[0].jsonpath, "$.timestamp");
        CHECK_STR(sp_kvlist_get(&d->keys, "ENGINE_SORTING_KEY"), "event_type, timestamp");
    }
    sp_project_free(p);
}

TEST(seed_writes_identical_bytes)
{
    sp_project *p = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_project_load(SEED, &p, &err), &err);
    char dir[] = "/tmp/sp-defs-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    CHECK_OK(sp_project_write(p, dir, &err), &err);
    CHECK_INT(compare_project(SEED, dir), 14);
    sp_project_free(p);
    rm_rf(dir);
}

static const char variants_pipe[] =
    "# a comment\n"
    "DESCRIPTION >\n"
    "\tTwo lines\n"
    "\tof description\n"
    "\n"
    "NODE first\n"
    "    DESCRIPTION >\n"
    "        the first node\n"
    "    SQL >\n"
    "        %\n"
    "        SELECT *\n"
    "        FROM events\n"
    "        WHERE user_id = {{ String(user, 'x') }}\n"
    "\n"
    "          AND 1\n"
    "\n"
    "\n"
    "NODE second\n"
    "SQL >\n"
    "  SELECT count() FROM first\n"
    "\n"
    "TYPE SINK\n"
    "EXPORT_CONNECTION_NAME \"lake\"\n"
    "EXPORT_BUCKET_URI 's3://bkt/p/'\n"
    "EXPORT_FILE_TEMPLATE out_{date}\n"
    "EXPORT_FORMAT NDJSON\n"
    "EXPORT_WRITE_STRATEGY truncate\n"
    "EXPORT_SCHEDULE   */15 * * * *   \r\n"
    "TOKEN reader READ\n";

TEST(pipe_variants_parse)
{
    sp_pipe *p = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_datafile_parse_pipe("pipes/v.pipe", variants_pipe, sizeof variants_pipe - 1,
                                    &p, &err),
             &err);
    if (!p)
        return;
    CHECK_STR(p->name, "v");
    CHECK_STR(p->description, "Two lines\nof description");
    CHECK_INT(p->nnodes, 2);
    CHECK_STR(p->nodes[0].description, "the first node");
    CHECK_INT(p->nodes[0].templated, 1);
    CHECK_STR(p->nodes[0].sql,
              "SELECT *\nFROM events\nWHERE user_id = {{ String(user, 'x') }}\n\n  AND 1");
    CHECK_INT(p->nodes[0].sql_line, 11);
    CHECK_INT(p->nodes[1].templated, 0);
    CHECK_STR(p->nodes[1].sql, "SELECT count() FROM first");
    CHECK_INT(p->type, SP_PIPE_SINK);
    CHECK_INT(p->type_line, 22);
    CHECK_STR(sp_kvlist_get(&p->keys, "EXPORT_CONNECTION_NAME"), "lake");
    CHECK_STR(sp_kvlist_get(&p->keys, "EXPORT_BUCKET_URI"), "s3://bkt/p/");
    CHECK_STR(sp_kvlist_get(&p->keys, "EXPORT_SCHEDULE"), "*/15 * * * *");
    sp_sink_def s;
    CHECK_OK(sp_pipe_sink(p, &s, &err), &err);
    CHECK_INT(s.strategy, SP_STRATEGY_REPLACE);
    CHECK_STR(s.format, "ndjson");
    CHECK_INT(p->ntokens, 1);
    CHECK_STR(p->tokens[0].scope, "READ");

    /* write -> parse -> write is a fixed point */
    sp_buf a = SP_BUF_INIT(1 << 20), b = SP_BUF_INIT(1 << 20);
    CHECK_OK(sp_pipe_write(p, &a, &err), &err);
    sp_pipe *q = NULL;
    CHECK_OK(sp_datafile_parse_pipe("pipes/v.pipe", a.data, a.len, &q, &err), &err);
    if (q) {
        CHECK_OK(sp_pipe_write(q, &b, &err), &err);
        CHECK_MEM(b.data, b.len, a.data, a.len);
    }
    CHECK(strstr(a.data, "SQL >\n    %\n    SELECT *\n") != NULL);
    CHECK(strstr(a.data, "EXPORT_STRATEGY replace\n") != NULL);
    CHECK(a.data[a.len - 1] != '\n');
    sp_buf_release(&a);
    sp_buf_release(&b);
    sp_pipe_free(q);
    sp_pipe_free(p);
}

static void expect_error(const char *path, const char *text, const char *want)
{
    sp_error err = SP_ERROR_INIT;
    int rc;
    size_t n = strlen(text);
    if (strstr(path, ".pipe")) {
        sp_pipe *p = NULL;
        rc = sp_datafile_parse_pipe(path, text, n, &p, &err);
        sp_pipe_free(p);
    } else if (strstr(path, ".datasource")) {
        sp_datasource *d = NULL;
        rc = sp_datafile_parse_datasource(path, text, n, &d, &err);
        sp_datasource_free(d);
    } else {
        sp_connection *c = NULL;
        rc = sp_datafile_parse_connection(path, text, n, &c, &err);
        sp_connection_free(c);
    }
    CHECK(rc != 0);
    CHECK_STR(err.msg, want);
}

TEST(error_messages)
{
    expect_error("pipes/x.pipe",
                 "NODE n\nSQL >\n    SELECT 1\n\nTYPE sink\nEXPORT_BUCKET_URI file:///tmp/x/\n"
                 "EXPORT_FILE_TEMPLATE x\nEXPORT_FORMAT csv\n\nEXPORT_FROMAT csv\n",
                 "pipes/x.pipe:10: EXPORT_FROMAT: unknown key (expected one of "
                 "EXPORT_CONNECTION_NAME, EXPORT_KAFKA_TOPIC, EXPORT_BUCKET_URI, "
                 "EXPORT_FILE_TEMPLATE, EXPORT_SCHEDULE, EXPORT_FORMAT, EXPORT_STRATEGY, "
                 "EXPORT_COMPRESSION, EXPORT_PARQUET_ROW_GROUP_SIZE, EXPORT_MAX_FILE_SIZE, "
                 "EXPORT_MAX_FILE_ROWS, EXPORT_SERVICE, EXPORT_KAFKA_KEY, "
                 "EXPORT_KAFKA_TRANSACTIONAL, TARGET_DATASOURCE, COPY_SCHEDULE, COPY_MODE, "
                 "DATASOURCE, ENGINE, ENGINE_PARTITION_KEY, ENGINE_SORTING_KEY, ENGINE_PRIMARY_KEY, "
                 "ENGINE_SAMPLING_KEY, ENGINE_TTL, ENGINE_VER, ENGINE_IS_DELETED, ENGINE_SIGN, "
                 "ENGINE_VERSION, ENGINE_SUMMING_COLUMNS, ENGINE_SETTINGS, DEPLOYMENT_METHOD, CACHE, "
                 "TAGS)");
    expect_error("pipes/x.pipe",
                 "NODE n\nSQL >\n    SELECT 1\n\nTYPE sink\nEXPORT_CONNECTION_NAME c\n"
                 "EXPORT_BUCKET_URI s3://bkt/\nEXPORT_FORMAT xml\n",
                 "pipes/x.pipe:8: EXPORT_FORMAT: unknown format 'xml' (expected csv, ndjson, parquet)");
    expect_error("pipes/x.pipe",
                 "NODE n\nSQL >\n    SELECT 1\n\nTYPE sink\nEXPORT_CONNECTION_NAME c\n"
                 "EXPORT_BUCKET_URI s3://bkt/\nEXPORT_STRATEGY append\n",
                 "pipes/x.pipe:8: EXPORT_STRATEGY: unknown strategy 'append' (expected "
                 "create_new, replace, truncate, new, @new, @truncate)");
    expect_error("pipes/x.pipe",
                 "NODE n\nSQL >\n    SELECT 1\n\nTYPE sink\nEXPORT_CONNECTION_NAME c\n"
                 "EXPORT_KAFKA_TOPIC t\nEXPORT_SCHEDULE 0 25 * * *\n",
                 "pipes/x.pipe:8: EXPORT_SCHEDULE: invalid schedule '0 25 * * *': position 3: "
                 "hour 25 out of range 0-23");
    expect_error("pipes/x.pipe",
                 "NODE n\nSQL >\n    SELECT 1\n\nTYPE sink\nEXPORT_CONNECTION_NAME c\n"
                 "EXPORT_BUCKET_URI s3://bkt/\nEXPORT_FILE_TEMPLATE out_{date\n",
                 "pipes/x.pipe:8: EXPORT_FILE_TEMPLATE: unbalanced braces at position 5 in "
                 "'out_{date'");
    expect_error("pipes/x.pipe",
                 "NODE n\nSQL >\n    SELECT 1\n\nTYPE sink\nEXPORT_CONNECTION_NAME c\n"
                 "EXPORT_BUCKET_URI s3://bkt/\nEXPORT_MAX_FILE_SIZE 256 MiBs\n",
                 "pipes/x.pipe:8: EXPORT_MAX_FILE_SIZE: '256 MiBs' is not a positive size "
                 "(bytes, or with a unit: 256MB, 1GiB; units B, KB, MB, GB, TB, KiB, MiB, GiB, "
                 "TiB)");
    expect_error("pipes/x.pipe",
                 "NODE n\nSQL >\n    SELECT 1\n\nTYPE sink\nEXPORT_CONNECTION_NAME c\n"
                 "EXPORT_BUCKET_URI s3://bkt/\nEXPORT_MAX_FILE_ROWS 1e6\n",
                 "pipes/x.pipe:8: EXPORT_MAX_FILE_ROWS: '1e6' is not a positive number of rows");
    expect_error("pipes/x.pipe",
                 "NODE n\nSQL >\n    SELECT 1\n\nTYPE sink\nEXPORT_CONNECTION_NAME c\n"
                 "EXPORT_KAFKA_TOPIC t\nEXPORT_MAX_FILE_ROWS 100\n",
                 "pipes/x.pipe:8: EXPORT_MAX_FILE_ROWS: a kafka sink writes messages, not files "
                 "(the key is for EXPORT_BUCKET_URI sinks)");
    expect_error("pipes/x.pipe", "NODE n\nSQL >\n    SELECT 1\n\nTYPE sinks\n",
                 "pipes/x.pipe:5: TYPE: unknown pipe type 'sinks' (expected sink, endpoint, "
                 "copy, materialized)");
    expect_error("pipes/x.pipe", "NODE n\nSQL >\n    SELECT 1\nTYPE sink\nEXPORT_SCHEDULE @once\n",
                 "pipes/x.pipe:4: TYPE: a sink needs EXPORT_KAFKA_TOPIC (kafka) or "
                 "EXPORT_BUCKET_URI (s3)");
    expect_error("pipes/9x.pipe", "NODE n\nSQL >\n    SELECT 1\n",
                 "pipes/9x.pipe: invalid name '9x' (expected letters, digits and _, not "
                 "starting with a digit)");
    expect_error("connections/k.connection", "TYPE kafka\nKAFKA_SECURITY_PROTOCOL TLS\n",
                 "connections/k.connection:2: KAFKA_SECURITY_PROTOCOL: unknown protocol 'TLS' "
                 "(expected PLAINTEXT, SASL_PLAINTEXT, SASL_SSL, SSL)");
    expect_error("connections/k.connection", "TYPE kafka\nKAFKA_KEY x\n",
                 "connections/k.connection:1: KAFKA_BOOTSTRAP_SERVERS: required key is "
                 "missing (host:port[,host:port...])");
    expect_error("connections/k.connection", "TYPE pulsar\n",
                 "connections/k.connection:1: TYPE: unknown connection type 'pulsar' "
                 "(expected kafka, s3, gcs)");
    expect_error("connections/s.connection", "TYPE s3\nS3_REGION x\nS3_BUCKET y\n",
                 "connections/s.connection:3: S3_BUCKET: unknown key (expected one of "
                 "S3_REGION, S3_ARN, S3_ACCESS_KEY, S3_SECRET, S3_ENDPOINT, S3_PATH_STYLE, "
                 "S3_EXTERNAL_ID, S3_STS_ENDPOINT)");
    expect_error("datasources/d.datasource", "SCHEMA >\n    a String,\n    b Strin\n",
                 "datasources/d.datasource:3: SCHEMA: column 'b': unknown type 'Strin' "
                 "(expected a ClickHouse type such as String, Int64, DateTime, Nullable(T))");
    expect_error("datasources/d.datasource", "SCHEMA >\n    a-b String\n",
                 "datasources/d.datasource:2: SCHEMA: invalid column name 'a-b' (expected "
                 "letters, digits and _)");
    expect_error("datasources/d.datasource", "SCHEMA >\n    a String\nENGINE_FOO x\n",
                 "datasources/d.datasource:3: ENGINE_FOO: unknown key (expected one of ENGINE, "
                 "ENGINE_PARTITION_KEY, ENGINE_SORTING_KEY, ENGINE_PRIMARY_KEY, "
                 "ENGINE_SAMPLING_KEY, ENGINE_TTL, ENGINE_VER, ENGINE_IS_DELETED, ENGINE_SIGN, "
                 "ENGINE_VERSION, ENGINE_SUMMING_COLUMNS, ENGINE_SETTINGS, INDEXES, BACKFILL, "
                 "KAFKA_CONNECTION_NAME, KAFKA_TOPIC, KAFKA_GROUP_ID, KAFKA_AUTO_OFFSET_RESET, "
                 "KAFKA_STORE_RAW_VALUE, KAFKA_STORE_HEADERS, KAFKA_TARGET_PARTITIONS, "
                 "IMPORT_CONNECTION_NAME, IMPORT_BUCKET_URI, IMPORT_SCHEDULE, "
                 "IMPORT_FROM_TIMESTAMP, IMPORT_STRATEGY, IMPORT_TABLE_ARN, "
                 "IMPORT_EXPORT_BUCKET, FORWARD_QUERY, SHARED_WITH, TAGS)");
}

static const char ds_text[] =
    "DESCRIPTION >\n"
    "    complex types\n"
    "\n"
    "SCHEMA >\n"
    "    `id` UInt64 `json:$.id`,\n"
    "    # a comment line\n"
    "    tags Map(String, UInt64) `json:$.tags`,\n"
    "    price Decimal(10, 2) DEFAULT 0 CODEC(ZSTD(1)),\n"
    "    ts Nullable(DateTime64(3, 'UTC')) `json:$.a.ts` DEFAULT now() CODEC(Delta, ZSTD(1)),\n"
    "    name LowCardinality(String) DEFAULT 'a, b'\n"
    "\n"
    "ENGINE ReplacingMergeTree\n"
    "ENGINE_SORTING_KEY 'id'\n"
    "ENGINE_VER \"ts\"\n"
    "INDEXES >\n"
    "    idx name TYPE bloom_filter GRANULARITY 1\n"
    "KAFKA_CONNECTION_NAME k\n"
    "KAFKA_TOPIC t\n"
    "TOKEN \"ingest\" APPEND\n";

TEST(file_bounds_parse)
{
    static const struct {
        const char *in;
        uint64_t want; /* 0: rejected */
    } sizes[] = {
        { "1", 1 },
        { "1048576", 1048576 },
        { "256MB", 256000000 },
        { "256mb", 256000000 },
        { "1 GiB", 1073741824 },
        { "64KiB", 65536 },
        { "10B", 10 },
        { "2TB", 2000000000000ull },
        { "4611686018427387904", (uint64_t)1 << 62 },
        { "4611686018427387905", 0 },
        { "4194304TiB", (uint64_t)1 << 62 },
        { "4194305TiB", 0 },
        { "0", 0 },
        { "0MB", 0 },
        { "", 0 },
        { "MB", 0 },
        { "1.5GB", 0 },
        { "-1", 0 },
        { "+1", 0 },
        { "1 MiBs", 0 },
        { "1  MB", 0 },
        { " 1", 0 },
        { "1Mi", 0 },
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint64_t v = 0;
        int rc = sp_size_parse(sizes[i].in, &v);
        if ((rc == 0) != (sizes[i].want != 0))
            fprintf(stderr, "  size '%s'\n", sizes[i].in);
        CHECK_INT(rc == 0, sizes[i].want != 0);
        if (!rc)
            CHECK_INT(v, sizes[i].want);
    }
    uint64_t v = 0;
    CHECK_INT(sp_count_parse("1000", &v), 0);
    CHECK_INT(v, 1000);
    CHECK(sp_count_parse("0", &v) != 0);
    CHECK(sp_count_parse("10k", &v) != 0);
    CHECK(sp_count_parse("", &v) != 0);
    CHECK(sp_count_parse(NULL, &v) != 0);
    CHECK(sp_size_parse(NULL, &v) != 0);
}

TEST(sink_file_bounds)
{
    const char *text = "NODE n\nSQL >\n    SELECT 1\n\nTYPE sink\nEXPORT_CONNECTION_NAME c\n"
                       "EXPORT_BUCKET_URI s3://bkt/\nEXPORT_MAX_FILE_SIZE 1GiB\n"
                       "EXPORT_MAX_FILE_ROWS 5000000\n";
    sp_pipe *p = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_datafile_parse_pipe("pipes/x.pipe", text, strlen(text), &p, &err), &err);
    sp_sink_def s;
    if (p) {
        CHECK_OK(sp_pipe_sink(p, &s, &err), &err);
        CHECK_INT(s.max_file_size, 1073741824);
        CHECK_INT(s.max_file_rows, 5000000);
        CHECK_INT(s.max_file_size_line, 8);
    }
    sp_pipe_free(p);
}

TEST(datasource_schema)
{
    sp_datasource *d = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_datafile_parse_datasource("datasources/d.datasource", ds_text,
                                          sizeof ds_text - 1, &d, &err),
             &err);
    if (!d)
        return;
    CHECK_INT(d->ncols, 5);
    CHECK_STR(d->cols[0].name, "id");
    CHECK_STR(d->cols[1].type, "Map(String, UInt64)");
    CHECK_INT(d->cols[1].line, 7);
    CHECK_STR(d->cols[2].type, "Decimal(10, 2)");
    CHECK_STR(d->cols[2].default_expr, "0");
    CHECK_STR(d->cols[2].codec, "ZSTD(1)");
    CHECK_STR(d->cols[3].type, "Nullable(DateTime64(3, 'UTC'))");
    CHECK_STR(d->cols[3].jsonpath, "$.a.ts");
    CHECK_STR(d->cols[3].default_expr, "now()");
    CHECK_STR(d->cols[3].codec, "Delta, ZSTD(1)");
    CHECK_STR(d->cols[4].default_expr, "'a, b'");
    CHECK_STR(sp_kvlist_get(&d->keys, "ENGINE"), "ReplacingMergeTree");
    CHECK_STR(sp_kvlist_get(&d->keys, "ENGINE_SORTING_KEY"), "id");
    CHECK_STR(sp_kvlist_get(&d->keys, "INDEXES"), "idx name TYPE bloom_filter GRANULARITY 1");
    CHECK_INT(d->ntokens, 1);
    CHECK_STR(d->tokens[0].name, "ingest");
    sp_buf a = SP_BUF_INIT(1 << 20), b = SP_BUF_INIT(1 << 20);
    CHECK_OK(sp_datasource_write(d, &a, &err), &err);
    sp_datasource *d2 = NULL;
    CHECK_OK(sp_datafile_parse_datasource("datasources/d.datasource", a.data, a.len, &d2, &err),
             &err);
    if (d2) {
        CHECK_OK(sp_datasource_write(d2, &b, &err), &err);
        CHECK_MEM(b.data, b.len, a.data, a.len);
    }
    CHECK(strstr(a.data, "ENGINE \"ReplacingMergeTree\"\nENGINE_SORTING_KEY \"id\"\n"
                         "ENGINE_VER \"ts\"\n\nINDEXES >\n    idx") != NULL);
    CHECK(strstr(a.data, "    price Decimal(10, 2) `json:$.price` DEFAULT 0 CODEC(ZSTD(1)),\n") !=
          NULL);
    sp_buf_release(&a);
    sp_buf_release(&b);
    sp_datasource_free(d2);
    sp_datasource_free(d);
}

TEST(connection_blocks)
{
    static const char text[] = "TYPE KAFKA\n"
                               "KAFKA_BOOTSTRAP_SERVERS 'localhost:9092'\n"
                               "KAFKA_SECURITY_PROTOCOL plaintext\n"
                               "KAFKA_SSL_CA_PEM >\n"
                               "    -----BEGIN CERTIFICATE-----\n"
                               "    MIIB\n"
                               "    -----END CERTIFICATE-----\n"
                               "KAFKA_PRODUCER_CONFIG >\n"
                               "    acks=all\n"
                               "    linger.ms=5\n";
    sp_connection *c = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_datafile_parse_connection("k.connection", text, sizeof text - 1, &c, &err), &err);
    if (!c)
        return;
    CHECK_INT(c->type, SP_CONN_KAFKA);
    CHECK_STR(sp_kvlist_get(&c->keys, "KAFKA_BOOTSTRAP_SERVERS"), "localhost:9092");
    CHECK_STR(sp_kvlist_get(&c->keys, "KAFKA_SSL_CA_PEM"),
              "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----");
    CHECK_STR(sp_kvlist_get(&c->keys, "KAFKA_PRODUCER_CONFIG"), "acks=all\nlinger.ms=5");
    sp_buf a = SP_BUF_INIT(1 << 20);
    CHECK_OK(sp_connection_write(c, &a, &err), &err);
    CHECK_STR(a.data, "TYPE kafka\nKAFKA_BOOTSTRAP_SERVERS localhost:9092\n"
                      "KAFKA_SECURITY_PROTOCOL plaintext\nKAFKA_SSL_CA_PEM >\n"
                      "    -----BEGIN CERTIFICATE-----\n    MIIB\n    -----END CERTIFICATE-----\n"
                      "KAFKA_PRODUCER_CONFIG >\n    acks=all\n    linger.ms=5");
    sp_buf_release(&a);
    sp_connection_free(c);
}

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

TEST(load_collects_all_diagnostics)
{
    char dir[] = "/tmp/sp-defs-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    put_file(dir, "k.connection", "TYPE kafka\nKAFKA_BOOTSTRAP_SERVERS h:1\n");
    put_file(dir, "endpoints/e.pipe", "NODE n\nSQL >\n    SELECT 1\nTYPE endpoint\n");
    put_file(dir, "sinks/bad1.pipe", "NODE n\nSQL >\n    SELECT 1\nTYPE sink\nEXPORT_FORMAT xml\n");
    put_file(dir, "sinks/bad2.pipe",
             "NODE n\nSQL >\n    SELECT 1\nTYPE sink\nEXPORT_CONNECTION_NAME nope\n"
             "EXPORT_KAFKA_TOPIC t\n");
    put_file(dir, "sinks/bad3.pipe",
             "NODE n\nSQL >\n    SELECT 1\nTYPE sink\nEXPORT_CONNECTION_NAME k\n"
             "EXPORT_BUCKET_URI s3://bkt/\n");
    put_file(dir, "sinks/good.pipe",
             "NODE n\nSQL >\n    SELECT 1\nTYPE sink\nEXPORT_BUCKET_URI file:///tmp/o/\n");
    put_file(dir, "node_modules/x.pipe", "garbage\n");
    put_file(dir, ".hidden/y.pipe", "garbage\n");
    sp_project *p = NULL;
    sp_error err = SP_ERROR_INIT;
    int rc = sp_project_load(dir, &p, &err);
    CHECK_INT(rc, SP_EDEF);
    CHECK(p != NULL);
    if (p) {
        CHECK_INT(sp_project_ndiag(p), 3);
        CHECK_STR(sp_project_diag(p, 0),
                  "sinks/bad1.pipe:5: EXPORT_FORMAT: unknown format 'xml' (expected csv, ndjson, parquet)");
        CHECK_STR(sp_project_diag(p, 1),
                  "sinks/bad2.pipe:5: EXPORT_CONNECTION_NAME: unknown connection 'nope' "
                  "(defined: k)");
        CHECK_STR(sp_project_diag(p, 2),
                  "sinks/bad3.pipe:5: EXPORT_CONNECTION_NAME: connection 'k' is a kafka "
                  "connection (a sink with EXPORT_BUCKET_URI needs TYPE s3 or gcs)");
        CHECK_STR(err.msg, sp_project_diag(p, 0));
        /* the same facts as fields, for programs (docs/errors.md) */
        const sp_diag *d = sp_project_diag_at(p, 0);
        CHECK(d && d->path && d->key);
        if (d && d->path && d->key) {
            CHECK_STR(d->path, "sinks/bad1.pipe");
            CHECK_INT(d->line, 5);
            CHECK_STR(d->key, "EXPORT_FORMAT");
            CHECK_INT(d->code, SP_EDEF);
        }
        d = sp_project_diag_at(p, 1);
        CHECK(d && d->key && !strcmp(d->key, "EXPORT_CONNECTION_NAME") && d->line == 5);
        CHECK_STR(err.path, "sinks/bad1.pipe");
        CHECK_INT(err.line, 5);
        CHECK_STR(err.key, "EXPORT_FORMAT");
        CHECK(sp_project_diag_at(p, 3) == NULL);
        CHECK_INT(sp_project_npipes(p), 4);
        CHECK_STR(sp_pipe_service(sp_project_find_pipe(p, "good")), "file");
    }
    sp_project_free(p);
    rm_rf(dir);
}

/* issue 13: a key indented like the SQL would become SQL and the pipe stop
 * being a sink; lines that merely look like keys stay SQL */
TEST(key_lines_inside_blocks)
{
    expect_error("pipes/x.pipe",
                 "NODE n\nSQL >\n    SELECT 1\n    TYPE sink\n    EXPORT_BUCKET_URI "
                 "file:///tmp/x/\n",
                 "pipes/x.pipe:4: TYPE: key line indented inside the SQL block of line 2 (it "
                 "would be read as part of the block); write it at column 0");
    expect_error("pipes/x.pipe",
                 "NODE n\nSQL >\n    %\n    SELECT 1\n\n    EXPORT_SCHEDULE @once\nTYPE sink\n",
                 "pipes/x.pipe:6: EXPORT_SCHEDULE: key line indented inside the SQL block of "
                 "line 2 (it would be read as part of the block); write it at column 0");
    expect_error("pipes/x.pipe",
                 "DESCRIPTION >\n    exports\n    EXPORT_FORMAT csv\nNODE n\nSQL >\n    "
                 "SELECT 1\n",
                 "pipes/x.pipe:3: EXPORT_FORMAT: key line indented inside the DESCRIPTION "
                 "block of line 1 (it would be read as part of the block); write it at "
                 "column 0");
    expect_error("datasources/x.datasource",
                 "DESCRIPTION >\n    d\n    ENGINE_SORTING_KEY a\nSCHEMA >\n    a String\n",
                 "datasources/x.datasource:3: ENGINE_SORTING_KEY: key line indented inside "
                 "the DESCRIPTION block of line 1 (it would be read as part of the block); "
                 "write it at column 0");
    expect_error("connections/k.connection",
                 "TYPE kafka\nKAFKA_SSL_CA_PEM >\n    -----BEGIN CERTIFICATE-----\n"
                 "    -----END CERTIFICATE-----\n    KAFKA_BOOTSTRAP_SERVERS h:9092\n",
                 "connections/k.connection:5: KAFKA_BOOTSTRAP_SERVERS: key line indented "
                 "inside the KAFKA_SSL_CA_PEM block of line 2 (it would be read as part of the "
                 "block); write it at column 0");
    /* SQL that only looks like keys: lower case, deeper, no value, prose */
    const char *ok = "DESCRIPTION >\n    TOKEN usage per day\nNODE n\nSQL >\n    SELECT\n"
                     "    token AS t,\n        TYPE x,\n    TYPE\n    FROM events\nTYPE sink\n"
                     "EXPORT_BUCKET_URI file:///tmp/x/\n";
    sp_pipe *p = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_datafile_parse_pipe("pipes/x.pipe", ok, strlen(ok), &p, &err), &err);
    if (p)
        CHECK_INT(p->type, SP_PIPE_SINK);
    sp_pipe_free(p);
}

/* SQL written from column 0 (and the template's '%') stays in its block,
 * as Tinybird reads it; the block ends at a line starting with a key */
TEST(sql_from_column_zero)
{
    const char *t = "NODE n\nSQL >\n%\nSELECT v\nFROM ev\n\nWHERE v = {{ String(x, 'a') }}\n"
                    "\nNODE m\nSQL >\n    SELECT *\nFROM n\n# a comment\nTYPE endpoint\n";
    sp_pipe *p = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_datafile_parse_pipe("pipes/x.pipe", t, strlen(t), &p, &err), &err);
    if (p) {
        CHECK_INT((int)p->nnodes, 2);
        CHECK_INT(p->type, SP_PIPE_ENDPOINT);
        CHECK_INT(p->nodes[0].templated, 1);
        CHECK_STR(p->nodes[0].sql, "SELECT v\nFROM ev\n\nWHERE v = {{ String(x, 'a') }}");
        CHECK_STR(p->nodes[1].sql, "    SELECT *\nFROM n");
    }
    sp_pipe_free(p);
}

/* a UTF-8 BOM is not text: the file parses and lines count from it */
TEST(bom)
{
    const char *t = "\xEF\xBB\xBFNODE n\nSQL >\n    SELECT 1\nTYPE sinc\n";
    expect_error("pipes/x.pipe", t,
                 "pipes/x.pipe:4: TYPE: unknown pipe type 'sinc' (expected sink, endpoint, "
                 "copy, materialized)");
    const char *g = "\xEF\xBB\xBFTYPE s3\nS3_REGION eu-west-1\nS3_ARN a\n";
    sp_connection *c = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_datafile_parse_connection("c.connection", g, strlen(g), &c, &err), &err);
    sp_connection_free(c);
}

/* every definition error names its line: a too-deep type, a too-big file */
TEST(limits_name_the_line)
{
    sp_buf t = SP_BUF_INIT(4096);
    sp_buf_adds(&t, "SCHEMA >\n    a String,\n    b ", NULL);
    for (int i = 0; i < 40; i++)
        sp_buf_adds(&t, "Array(", NULL);
    sp_buf_adds(&t, "String", NULL);
    for (int i = 0; i < 40; i++)
        sp_buf_adds(&t, ")", NULL);
    sp_buf_adds(&t, "\n", NULL);
    expect_error("datasources/x.datasource", t.data,
                 "datasources/x.datasource:3: SCHEMA: column 'b': type nested more than 32 "
                 "levels deep");
    sp_buf_release(&t);
    /* something missing: the file's first line */
    expect_error("pipes/x.pipe", "# nothing\n", "pipes/x.pipe:1: NODE: at least one node is required");
    expect_error("c.connection", "S3_REGION x\n",
                 "c.connection:1: TYPE: required key is missing (expected kafka, s3, gcs)");
    char dir[] = "/tmp/sp-defs-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    size_t n = (size_t)17 << 20;
    char *big = malloc(n + 64);
    if (!big)
        return;
    int k = snprintf(big, 64, "NODE n\nSQL >\n    SELECT '");
    memset(big + k, 'x', n);
    big[k + n] = '\0';
    put_file(dir, "pipes/big.pipe", big);
    free(big);
    sp_project *p = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK(sp_project_load(dir, &p, &err) != 0);
    CHECK_STR(err.msg, "pipes/big.pipe:3: datafile larger than 16 MiB (the limit is reached "
                       "on this line)");
    sp_project_free(p);
    rm_rf(dir);
}

/* a parse error is a diagnostic with its place as fields too */
TEST(parse_errors_carry_their_place)
{
    char dir[] = "/tmp/sp-defs-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    put_file(dir, "c.connection", "# a comment\nTYPE ftp\n");
    put_file(dir, "d.datasource", "SCHEMA >\n    a String,\n    b\n");
    sp_project *p = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_INT(sp_project_load(dir, &p, &err), SP_EDEF);
    CHECK_INT(sp_project_ndiag(p), 2);
    for (size_t i = 0; i < sp_project_ndiag(p); i++) {
        const sp_diag *d = sp_project_diag_at(p, i);
        if (!d || !d->path || !d->key) {
            SP_T_FAIL("diagnostic %zu has no place: %s", i, sp_project_diag(p, i));
            continue;
        }
        /* the text is the fields and the reason, as before */
        char head[256];
        snprintf(head, sizeof head, "%s:%d: %s: ", d->path, d->line, d->key);
        CHECK(strncmp(d->text, head, strlen(head)) == 0);
        CHECK_INT(d->code, SP_EDEF);
    }
    CHECK_STR(sp_project_diag(p, 0),
              "c.connection:2: TYPE: unknown connection type 'ftp' (expected kafka, s3, gcs)");
    CHECK_STR(sp_project_diag(p, 1), "d.datasource:3: SCHEMA: column 'b' has no type");
    sp_project_free(p);
    rm_rf(dir);
}

TEST(duplicate_names)
{
    char dir[] = "/tmp/sp-defs-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    put_file(dir, "datasources/x.datasource", "SCHEMA >\n    a String\n");
    put_file(dir, "pipes/x.pipe", "NODE n\nSQL >\n    SELECT 1\n");
    sp_project *p = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_INT(sp_project_load(dir, &p, &err), SP_EDEF);
    CHECK_STR(err.msg, "pipes/x.pipe: name 'x' is already used by datasources/x.datasource");
    sp_project_free(p);
    rm_rf(dir);
}

TEST(missing_folder)
{
    sp_project *p = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_INT(sp_project_load("/nonexistent/sp-defs", &p, &err), SP_ENOTFOUND);
    CHECK(p == NULL);
}

int main(void)
{
    RUN(seed_loads);
    RUN(seed_writes_identical_bytes);
    RUN(pipe_variants_parse);
    RUN(error_messages);
    RUN(file_bounds_parse);
    RUN(sink_file_bounds);
    RUN(datasource_schema);
    RUN(connection_blocks);
    RUN(load_collects_all_diagnostics);
    RUN(parse_errors_carry_their_place);
    RUN(duplicate_names);
    RUN(missing_folder);
    RUN(key_lines_inside_blocks);
    RUN(sql_from_column_zero);
    RUN(bom);
    RUN(limits_name_the_line);
    return sp_test_done();
}
