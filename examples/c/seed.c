/* seed.c — the sink pipes of the user's seed document, written with the C SDK
 * of include/sinkpipe.h.  It reads like the TypeScript in examples/ts/src:
 * one definition per connection, datasource and pipe, with the same names,
 * options and SQL.
 *
 *   seed_c write DIR   write the datafiles as `tinybird generate` does
 *                      (DIR/connections, DIR/datasources, DIR/pipes); they
 *                      equal examples/seed/
 *   seed_c run DIR     a project in DIR: append a few sample events and run
 *                      the three S3 sink pipes at 2026-11-25T02:00:00Z,
 *                      writing objects under DIR/s3/<bucket>/<key>; prints
 *                      one line per object: pipe, uri, rows, bytes
 *
 * Build: make examples (as $BUILD/examples/seed_c), or
 *   cc -Iinclude examples/c/seed.c build/libsinkpipe.a <libs of the Makefile>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "sinkpipe.h"

/* the connections the pipes refer to; owned by the project once added */
struct seed_connections {
    const sp_connection *events_kafka, *landing_s3, *data_warehouse, *kafka, *s3,
        *streaming_kafka, *data_lake;
};

static int nomem(sp_error *err)
{
    if (err && !err->code) {
        err->code = SP_ENOMEM;
        snprintf(err->msg, sizeof err->msg, "seed: out of memory");
    }
    return SP_ENOMEM;
}

/* ----------------------------------------------------------- connections */

static int define_connections(sp_project *p, struct seed_connections *out, sp_error *err)
{
    /* Define Kafka connection */
    sp_connection *events_kafka = sp_kafka_connection("events_kafka", &(struct sp_kafka_opts){
        .bootstrap_servers = "kafka.example.com:9092",
        .security_protocol = "SASL_SSL",
        .sasl_mechanism = "PLAIN",
        .key = SP_SECRET("KAFKA_KEY"),
        .secret = SP_SECRET("KAFKA_SECRET"),
    });

    /* Define S3 connection */
    sp_connection *landing_s3 = sp_s3_connection("landing_s3", &(struct sp_s3_opts){
        .region = "us-east-1",
        .arn = "arn:aws:iam::123456789012:role/tinybird-s3-access",
    });

    sp_connection *data_warehouse = sp_s3_connection("data_warehouse", &(struct sp_s3_opts){
        .region = "us-west-2",
        .arn = "arn:aws:iam::123456789012:role/tinybird-warehouse-access",
    });

    sp_connection *kafka = sp_kafka_connection("kafka_prod", &(struct sp_kafka_opts){
        .bootstrap_servers = "kafka-1.example.com:9092,kafka-2.example.com:9092",
        .security_protocol = "SASL_SSL",
        .sasl_mechanism = "PLAIN",
        .key = SP_SECRET("KAFKA_KEY"),
        .secret = SP_SECRET("KAFKA_SECRET"),
    });

    sp_connection *s3 = sp_s3_connection("s3_prod", &(struct sp_s3_opts){
        .region = "us-east-1",
        .arn = "arn:aws:iam::123456789012:role/tinybird-s3-access",
    });

    sp_connection *streaming_kafka = sp_kafka_connection("streaming_kafka", &(struct sp_kafka_opts){
        .bootstrap_servers = "kafka.streaming.example.com:9092",
        .security_protocol = "SASL_SSL",
        .sasl_mechanism = "PLAIN",
        .key = SP_SECRET("STREAMING_KAFKA_KEY"),
        .secret = SP_SECRET("STREAMING_KAFKA_SECRET"),
    });

    sp_connection *data_lake = sp_s3_connection("data_lake", &(struct sp_s3_opts){
        .region = "us-west-2",
        .arn = "arn:aws:iam::123456789012:role/data-lake-writer",
    });

    /* the project takes ownership of each one (also when adding fails) */
    sp_connection *all[] = { events_kafka, landing_s3, data_warehouse, kafka,
                             s3, streaming_kafka, data_lake };
    int rc = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (!all[i])
            rc = rc ? rc : nomem(err);
        else if (rc)
            sp_connection_free(all[i]);
        else
            rc = sp_project_add_connection(p, all[i], err);
    }
    if (!rc)
        *out = (struct seed_connections){ events_kafka, landing_s3, data_warehouse, kafka,
                                          s3, streaming_kafka, data_lake };
    return rc;
}

/* ------------------------------------------------------------ datasource */

static int define_datasources(sp_project *p, sp_error *err)
{
    /* The events every sink pipe of the seed reads. */
    sp_datasource *events = sp_datasource_new("events", &(struct sp_datasource_opts){
        .description = "Raw events: clicks, views, purchases, signups",
        .schema = SP_COLUMNS(
            { .name = "timestamp", .type = "DateTime", .jsonpath = "$.timestamp" },
            { .name = "event_type", .type = "String", .jsonpath = "$.event_type" },
            { .name = "user_id", .type = "String", .jsonpath = "$.user_id" },
            { .name = "session_id", .type = "String", .jsonpath = "$.session_id" },
            { .name = "payload", .type = "String", .jsonpath = "$.payload" },
            { .name = "amount", .type = "Float64", .jsonpath = "$.amount" },
            { .name = "duration", .type = "Float64", .jsonpath = "$.duration" },
            { .name = "metadata", .type = "String", .jsonpath = "$.metadata" }),
        .engine = "MergeTree",
        .sorting_key = "event_type, timestamp",
    });
    if (!events)
        return nomem(err);
    return sp_project_add_datasource(p, events, err);
}

/* ----------------------------------------------------------------- pipes */

/* The SQL strings are the TypeScript template literals, indentation and
 * all: the writer trims them and indents every line by four spaces, as the
 * SDK does, so the .pipe files come out the same. */

static int define_pipes(sp_project *p, const struct seed_connections *conn, sp_error *err)
{
    const sp_connection *events_kafka = conn->events_kafka, *landing_s3 = conn->landing_s3,
                        *data_warehouse = conn->data_warehouse,
                        *streaming_kafka = conn->streaming_kafka, *data_lake = conn->data_lake;

    /* Create Kafka sink pipe */
    sp_pipe *kafka_events_sink = sp_sink_pipe("kafka_events_sink", &(struct sp_sink_pipe_opts){
        .description = "Export events to Kafka",
        .sink = &(struct sp_sink_opts){
            .connection = events_kafka,
            .topic = "events_export",
            .schedule = "@on-demand",
        },
        .nodes = SP_NODES({
            .name = "publish",
            .sql = "\n"
                   "        SELECT timestamp, event_type, user_id, payload\n"
                   "        FROM events\n"
                   "        WHERE timestamp >= now() - interval 1 hour\n"
                   "      ",
        }),
    });

    sp_pipe *hourly_events_to_kafka = sp_sink_pipe("hourly_events_to_kafka", &(struct sp_sink_pipe_opts){
        .description = "Export hourly events to Kafka",
        .sink = &(struct sp_sink_opts){
            .connection = events_kafka,
            .topic = "hourly_events",
            .schedule = "0 * * * *", /* Every hour */
        },
        .nodes = SP_NODES({
            .name = "hourly_export",
            .sql = "\n"
                   "        SELECT\n"
                   "          toStartOfHour(timestamp) AS hour,\n"
                   "          event_type,\n"
                   "          count() AS event_count,\n"
                   "          uniqExact(user_id) AS unique_users\n"
                   "        FROM events\n"
                   "        WHERE timestamp >= toStartOfHour(now()) - interval 1 hour\n"
                   "          AND timestamp < toStartOfHour(now())\n"
                   "        GROUP BY hour, event_type\n"
                   "      ",
        }),
    });

    /* Create S3 sink pipe */
    sp_pipe *s3_events_sink = sp_sink_pipe("s3_events_sink", &(struct sp_sink_pipe_opts){
        .description = "Export events to S3",
        .sink = &(struct sp_sink_opts){
            .connection = landing_s3,
            .bucket_uri = "s3://my-bucket/exports/",
            .file_template = "events_{date}",
            .format = "csv",
            .schedule = "@once",
            .strategy = "create_new",
        },
        .nodes = SP_NODES({
            .name = "export",
            .sql = "\n"
                   "        SELECT timestamp, session_id, event_type\n"
                   "        FROM events\n"
                   "        WHERE toDate(timestamp) = today() - 1\n"
                   "      ",
        }),
    });

    sp_pipe *daily_export = sp_sink_pipe("daily_export", &(struct sp_sink_pipe_opts){
        .description = "Daily export of aggregated events to data warehouse",
        .sink = &(struct sp_sink_opts){
            .connection = data_warehouse,
            .bucket_uri = "s3://data-warehouse/tinybird/daily/",
            .file_template = "events_{date}.csv",
            .format = "csv",
            .schedule = "0 1 * * *", /* Daily at 1 AM */
            .strategy = "create_new",
            .compression = "gzip",
        },
        .nodes = SP_NODES({
            .name = "daily_aggregation",
            .sql = "\n"
                   "        SELECT\n"
                   "          toDate(timestamp) AS date,\n"
                   "          event_type,\n"
                   "          count() AS event_count,\n"
                   "          uniqExact(user_id) AS unique_users,\n"
                   "          avg(duration) AS avg_duration\n"
                   "        FROM events\n"
                   "        WHERE toDate(timestamp) = yesterday()\n"
                   "        GROUP BY date, event_type\n"
                   "        ORDER BY event_count DESC\n"
                   "      ",
        }),
    });

    sp_pipe *realtime_event_stream = sp_sink_pipe("realtime_event_stream", &(struct sp_sink_pipe_opts){
        .description = "Stream high-value events to Kafka in real-time",
        .sink = &(struct sp_sink_opts){
            .connection = streaming_kafka,
            .topic = "high_value_events",
            .schedule = "*/5 * * * *", /* Every 5 minutes */
        },
        .nodes = SP_NODES({
            .name = "high_value_events",
            .sql = "\n"
                   "        SELECT\n"
                   "          timestamp,\n"
                   "          user_id,\n"
                   "          event_type,\n"
                   "          amount,\n"
                   "          metadata\n"
                   "        FROM events\n"
                   "        WHERE timestamp >= now() - interval 5 minute\n"
                   "          AND amount > 1000\n"
                   "        ORDER BY timestamp\n"
                   "      ",
        }),
    });

    sp_pipe *daily_partition_export = sp_sink_pipe("daily_partition_export", &(struct sp_sink_pipe_opts){
        .description = "Export daily partitions to data lake",
        .sink = &(struct sp_sink_opts){
            .connection = data_lake,
            .bucket_uri = "s3://data-lake/events/year={year}/month={month}/day={day}/",
            .file_template = "events_{date}_{time}",
            .format = "ndjson",
            .schedule = "0 2 * * *", /* 2 AM daily */
            .strategy = "create_new",
            .compression = "gzip",
        },
        .nodes = SP_NODES({
            .name = "partition_export",
            .sql = "\n"
                   "        SELECT *\n"
                   "        FROM events\n"
                   "        WHERE toDate(timestamp) = yesterday()\n"
                   "        ORDER BY timestamp\n"
                   "      ",
        }),
    });

    sp_pipe *all[] = { kafka_events_sink, hourly_events_to_kafka, s3_events_sink,
                       daily_export, realtime_event_stream, daily_partition_export };
    int rc = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (!all[i])
            rc = rc ? rc : nomem(err);
        else if (rc)
            sp_pipe_free(all[i]);
        else
            rc = sp_project_add_pipe(p, all[i], err);
    }
    return rc;
}

/* seed_project: the whole seed as a project in `dir` */
static int seed_project(const char *dir, sp_project **out, sp_error *err)
{
    struct seed_connections conn = { 0 };
    sp_project *p = sp_project_new(dir);
    if (!p)
        return nomem(err);
    int rc = define_connections(p, &conn, err);
    rc = rc ? rc : define_datasources(p, err);
    rc = rc ? rc : define_pipes(p, &conn, err);
    if (rc) {
        for (size_t i = 0; i < sp_project_ndiag(p); i++)
            fprintf(stderr, "%s\n", sp_project_diag(p, i));
        sp_project_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

/* ------------------------------------------------------------------- run */

/* A few events around the fixed "now" below: yesterday's (2026-11-24) for
 * the daily pipes, some from the day before and from today that they must
 * leave out, and awkward strings. */
static const char sample_ndjson[] =
    "{\"timestamp\":\"2026-11-23 23:59:59\",\"event_type\":\"view\",\"user_id\":\"u1\","
    "\"session_id\":\"s0\",\"payload\":\"{}\",\"amount\":0,\"duration\":1.5,\"metadata\":\"\"}\n"
    "{\"timestamp\":\"2026-11-24 00:00:00\",\"event_type\":\"view\",\"user_id\":\"u1\","
    "\"session_id\":\"s1\",\"payload\":\"{\\\"page\\\":\\\"/home\\\"}\",\"amount\":0,"
    "\"duration\":12.25,\"metadata\":\"device=mobile\"}\n"
    "{\"timestamp\":\"2026-11-24 08:30:00\",\"event_type\":\"click\",\"user_id\":\"u2\","
    "\"session_id\":\"s2\",\"payload\":\"with \\\"quotes\\\", commas\\nand a newline\","
    "\"amount\":0,\"duration\":3,\"metadata\":\"caf\xc3\xa9 \xf0\x9f\x9a\x80\"}\n"
    "{\"timestamp\":\"2026-11-24 12:00:00\",\"event_type\":\"purchase\",\"user_id\":\"u2\","
    "\"session_id\":\"s2\",\"payload\":\"path/to\\\\thing\",\"amount\":1250.5,\"duration\":40,"
    "\"metadata\":\"tab\\there\"}\n"
    "{\"timestamp\":\"2026-11-24 23:59:59\",\"event_type\":\"purchase\",\"user_id\":\"u3\","
    "\"session_id\":\"s3\",\"payload\":\"\",\"amount\":99.99,\"duration\":8,\"metadata\":\"x\"}\n"
    "{\"timestamp\":\"2026-11-25 01:30:00\",\"event_type\":\"signup\",\"user_id\":\"u4\","
    "\"session_id\":\"s4\",\"payload\":\"{}\",\"amount\":0,\"duration\":0,\"metadata\":\"\"}\n";

static void print_objects(const sp_run_result *r)
{
    for (size_t i = 0; i < r->nobjects; i++)
        printf("%s\t%s\t%llu\t%llu\n", r->pipe ? r->pipe : "", r->objects[i].uri,
               (unsigned long long)r->objects[i].rows, (unsigned long long)r->objects[i].size);
}

static int run_s3_pipes(sp_project *p, sp_error *err)
{
    static const char *const pipes[] = { "s3_events_sink", "daily_export",
                                         "daily_partition_export" };
    sp_append_result ar = { 0 };
    int rc = sp_append_mem(p, "events", sample_ndjson, sizeof sample_ndjson - 1, "ndjson", &ar,
                           err);
    if (rc)
        return rc;
    fprintf(stderr, "events: %llu rows loaded, %llu quarantined\n",
            (unsigned long long)ar.rows_loaded, (unsigned long long)ar.rows_quarantined);

    int64_t now = 0;
    rc = sp_parse_time("2026-11-25T02:00:00Z", &now, err);
    for (size_t i = 0; !rc && i < sizeof pipes / sizeof pipes[0]; i++) {
        struct sp_run_opts o = { .size = sizeof o, .now_unix = now };
        sp_run_result r;
        memset(&r, 0, sizeof r);
        rc = sp_run(p, pipes[i], &o, &r, err);
        print_objects(&r);
        if (!rc)
            fprintf(stderr, "%s: %llu rows, %zu object%s\n", pipes[i],
                    (unsigned long long)r.written_rows, r.nobjects, r.nobjects == 1 ? "" : "s");
        sp_run_result_release(&r);
    }
    return rc;
}

/* Each S3 connection of the seed writes into DIR/s3/ through the connection
 * override the library reads from the environment (unless already set). */
static int route_s3_to_folder(const char *dir)
{
    static const char *const s3conns[] = { "landing_s3", "data_warehouse", "s3_prod",
                                           "data_lake" };
    char root[8192], var[256], cwd[4096];
    if (dir[0] == '/')
        snprintf(root, sizeof root, "file://%s/s3", dir);
    else if (getcwd(cwd, sizeof cwd))
        snprintf(root, sizeof root, "file://%s/%s/s3", cwd, dir);
    else
        return -1;
    for (size_t i = 0; i < sizeof s3conns / sizeof s3conns[0]; i++) {
        snprintf(var, sizeof var, "SINKPIPE_CONNECTION__%s__S3_ENDPOINT", s3conns[i]);
        if (setenv(var, root, 0) != 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "write") && strcmp(argv[1], "run"))) {
        fputs("usage: seed_c write DIR | seed_c run DIR\n", stderr);
        return 2;
    }
    const char *dir = argv[2];
    sp_error err = SP_ERROR_INIT;
    sp_project *p = NULL;
    int rc;

    if (!strcmp(argv[1], "run") && route_s3_to_folder(dir) != 0) {
        fprintf(stderr, "seed_c: cannot set the S3 endpoint overrides\n");
        return 1;
    }
    rc = seed_project(dir, &p, &err);
    if (!rc)
        rc = !strcmp(argv[1], "write") ? sp_project_write(p, dir, &err) : run_s3_pipes(p, &err);
    sp_project_free(p);
    if (rc) {
        fprintf(stderr, "seed_c: %s\n", err.msg[0] ? err.msg : sp_strerror(rc));
        return 1;
    }
    return 0;
}
