/* sinkpipe.h — the public API of libsinkpipe.
 *
 * libsinkpipe loads sink-pipe definitions (Tinybird datafiles, or C code that
 * reads like the TypeScript SDK), holds data in an embedded engine, runs a
 * pipe's SQL (ClickHouse dialect) and delivers every row to a sink.
 *
 * Conventions, for every function here:
 *  - Fallible functions return 0 on success or a negative sp_code, and fill
 *    the caller-owned `sp_error *err` (which may be NULL).  The first failure
 *    fills it; later ones do not overwrite it.  Call sp_error_clear() before
 *    reusing a record.
 *  - The library never prints, never exits, and keeps no hidden global state.
 *  - Strings passed in are copied unless a comment says otherwise; strings
 *    returned as `const char *` belong to the object they came from and live
 *    as long as it does.
 *  - Secret values never appear in error messages or results.
 */
#ifndef SINKPIPE_H
#define SINKPIPE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* the library is built with hidden visibility: what this header declares is
 * its exported interface, nothing else */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

/* The version of this header; sp_version() tells the library's (they differ
 * when a program runs against another build of libsinkpipe.so).  The major
 * number is the SONAME's (libsinkpipe.so.0): it changes when the ABI does. */
#define SINKPIPE_VERSION_MAJOR 0
#define SINKPIPE_VERSION_MINOR 1
#define SINKPIPE_VERSION_PATCH 0
#define SINKPIPE_VERSION "0.1.0"
/* one comparable number: 10000 * major + 100 * minor + patch */
#define SINKPIPE_VERSION_NUMBER                                                  \
    (SINKPIPE_VERSION_MAJOR * 10000 + SINKPIPE_VERSION_MINOR * 100 + SINKPIPE_VERSION_PATCH)

/* sp_version: the library's version text ("0.1.0"); *number (may be NULL)
 * receives its SINKPIPE_VERSION_NUMBER. */
const char *sp_version(int *number);

/* ---------------------------------------------------------------- errors */

/* X(symbol, value, text): the numbers never change once released. */
#define SP_CODES(X)                                              \
    X(SP_OK, 0, "ok")                                            \
    X(SP_EINVAL, -1, "invalid argument")                         \
    X(SP_EDEF, -2, "invalid definition")                         \
    X(SP_ENOMEM, -3, "out of memory")                            \
    X(SP_EIO, -4, "input/output error")                          \
    X(SP_ENOTFOUND, -5, "not found")                             \
    X(SP_EEXIST, -6, "already exists")                           \
    X(SP_ESECRET, -7, "missing secret")                          \
    X(SP_EPARAM, -8, "bad parameter")                            \
    X(SP_ESQL, -9, "query failed")                               \
    X(SP_EENGINE, -10, "engine error")                           \
    X(SP_EFORMAT, -11, "format error")                           \
    X(SP_ECODEC, -12, "compression error")                       \
    X(SP_ESINK, -13, "delivery failed")                          \
    X(SP_ECANCELLED, -14, "cancelled")                           \
    X(SP_ETOOBIG, -15, "limit exceeded")                         \
    X(SP_EDATA, -16, "bad data")                                 \
    X(SP_EAUTH, -17, "authentication failed")                    \
    X(SP_ENET, -18, "network error")                             \
    X(SP_EUNSUPPORTED, -19, "unsupported")                       \
    X(SP_EINTERNAL, -20, "internal error")                     \
    X(SP_EBUSY, -21, "in use")

#define SP_CODE_ENUM(sym, val, text) sym = val,
typedef enum sp_code { SP_CODES(SP_CODE_ENUM) } sp_code;
#undef SP_CODE_ENUM

typedef struct sp_error {
    int code;      /* 0 or a negative sp_code */
    int retriable; /* 1 when the same call may succeed later (the network,
                    * a busy peer, 408/429/5xx); 0 when it is fatal for
                    * the call: retrying gets the same answer.  Retry
                    * policies read this, never msg (docs/errors.md) */
    char msg[1024];
    /* What the failure points at, as fields, where the library knows (the
     * message names the same things; "" and 0 when unknown): */
    char path[512]; /* the definition's file ("" for SDK definitions) */
    int line;       /* its line, 1-based */
    char key[64];   /* the key: "EXPORT_FORMAT", "SCHEMA", "SQL", "TYPE"… */
    char pipe[128]; /* the pipe the message names */
} sp_error;

#define SP_ERROR_INIT { 0, 0, { 0 }, { 0 }, 0, { 0 }, { 0 } }

const char *sp_strerror(int code); /* static text for a code */
void sp_error_clear(sp_error *err);

/* ----------------------------------------------------- definitions (SDK) */

/* Opaque definition objects.  Created by the constructors below (or by the
 * datafile loader, through the same constructors), then handed to a project
 * with sp_project_add_*(), which validates them and takes ownership. */
typedef struct sp_connection sp_connection;
typedef struct sp_datasource sp_datasource;
typedef struct sp_pipe sp_pipe;
typedef struct sp_project sp_project;

/* Secrets: the datafile form, so definitions round-trip.  Resolved at run
 * time from the environment, then <project>/.env.local, then .env. */
#define SP_SECRET(name) "{{ tb_secret(\"" name "\") }}"
#define SP_SECRET_OR(name, dflt) "{{ tb_secret(\"" name "\", \"" dflt "\") }}"

/* Extra keys: a NULL-terminated list of "KEY", "value" pairs, written to the
 * datafile after the known keys (e.g. "KAFKA_PRODUCER_CONFIG", "acks=all"). */
#define SP_SETTINGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

struct sp_kafka_opts {
    const char *bootstrap_servers;   /* KAFKA_BOOTSTRAP_SERVERS (required) */
    const char *security_protocol;   /* KAFKA_SECURITY_PROTOCOL */
    const char *sasl_mechanism;      /* KAFKA_SASL_MECHANISM */
    const char *key;                 /* KAFKA_KEY (SASL user) */
    const char *secret;              /* KAFKA_SECRET (SASL password) */
    const char *ssl_ca_pem;          /* KAFKA_SSL_CA_PEM */
    const char *schema_registry_url; /* KAFKA_SCHEMA_REGISTRY_URL */
    const char *const *settings;     /* SP_SETTINGS(...) or NULL */
};

struct sp_s3_opts {
    const char *region;          /* S3_REGION (required) */
    const char *arn;             /* S3_ARN: IAM role to assume */
    const char *access_key;      /* S3_ACCESS_KEY */
    const char *secret;          /* S3_SECRET */
    const char *endpoint;        /* S3_ENDPOINT (extension) */
    const char *const *settings; /* SP_SETTINGS(...) or NULL */
};

struct sp_node_opts {
    const char *name; /* required */
    const char *description;
    const char *sql; /* required; may hold {{ }} / {% %} templates */
};

/* One list terminator-appending helper: .nodes = SP_NODES({...}, {...}) */
#define SP_NODES(...) ((const struct sp_node_opts[]){ __VA_ARGS__, { 0 } })

struct sp_token_opts {
    const char *name;  /* token name */
    const char *scope; /* READ (pipes) or APPEND (datasources) */
};
#define SP_TOKENS(...) ((const struct sp_token_opts[]){ __VA_ARGS__, { 0 } })

struct sp_sink_opts {
    const sp_connection *connection; /* required; its name is copied */
    /* Kafka sinks */
    const char *topic; /* EXPORT_KAFKA_TOPIC */
    /* S3 / file sinks */
    const char *bucket_uri;    /* EXPORT_BUCKET_URI */
    const char *file_template; /* EXPORT_FILE_TEMPLATE */
    const char *format;        /* EXPORT_FORMAT: csv (default), ndjson */
    const char *strategy;      /* EXPORT_STRATEGY: create_new, replace */
    const char *compression;   /* EXPORT_COMPRESSION: none, gzip, snappy, zstd */
    /* both */
    const char *schedule;        /* EXPORT_SCHEDULE: cron, @once, @on-demand */
    /* extension EXPORT_* keys, SP_SETTINGS(): e.g. EXPORT_MAX_FILE_SIZE,
     * EXPORT_MAX_FILE_ROWS (size-bounded files, docs/objects.md) */
    const char *const *settings;
};

struct sp_sink_pipe_opts {
    const char *description;
    const struct sp_sink_opts *sink;    /* required */
    const struct sp_node_opts *nodes;   /* SP_NODES(...): at least one */
    const struct sp_token_opts *tokens; /* SP_TOKENS(...) or NULL */
};

struct sp_column_opts {
    const char *name;     /* required */
    const char *type;     /* ClickHouse type, required: "DateTime", ... */
    const char *jsonpath; /* "$.a.b" or NULL */
    const char *default_expr;
    const char *codec;
};
#define SP_COLUMNS(...) ((const struct sp_column_opts[]){ __VA_ARGS__, { 0 } })

struct sp_datasource_opts {
    const char *description;
    const struct sp_column_opts *schema; /* SP_COLUMNS(...): at least one */
    const char *engine;                  /* ENGINE, default MergeTree */
    const char *partition_key;           /* ENGINE_PARTITION_KEY */
    const char *sorting_key;             /* ENGINE_SORTING_KEY */
    const char *primary_key;             /* ENGINE_PRIMARY_KEY */
    const char *ttl;                     /* ENGINE_TTL */
    const char *ver;                     /* ENGINE_VER */
    const char *engine_settings;         /* ENGINE_SETTINGS */
    const struct sp_token_opts *tokens;
    const char *const *settings; /* other ENGINE_* keys, SP_SETTINGS() */
};

/* Constructors: copy everything they are given; return NULL only when out of
 * memory.  Validation happens in sp_project_add_*(), with the same rules and
 * messages as datafiles.  Free with sp_*_free() only if never added. */
sp_connection *sp_kafka_connection(const char *name, const struct sp_kafka_opts *o);
sp_connection *sp_s3_connection(const char *name, const struct sp_s3_opts *o);
sp_pipe *sp_sink_pipe(const char *name, const struct sp_sink_pipe_opts *o);
sp_datasource *sp_datasource_new(const char *name, const struct sp_datasource_opts *o);
void sp_connection_free(sp_connection *c);
void sp_pipe_free(sp_pipe *p);
void sp_datasource_free(sp_datasource *d);

/* ---------------------------------------------------------------- project */

/* sp_project_new: an empty project whose folder is `dir` (NULL: the current
 * directory).  The folder holds .env / .env.local and the engine's data
 * under <dir>/.sinkpipe/.  NULL on out of memory. */
sp_project *sp_project_new(const char *dir);

/* sp_project_load: a project from the datafiles in `dir` (folders
 * datasources/, pipes/, connections/, or flat).  On definition errors it
 * returns SP_EDEF with the first one in err, and *out still receives the
 * project so that every diagnostic can be listed with sp_project_diag().
 * The caller frees *out. */
int sp_project_load(const char *dir, sp_project **out, sp_error *err);
void sp_project_free(sp_project *p);

/* Add a definition: validate it, then take ownership (also on failure, when
 * the object is freed).  Errors read `path:line: KEY: reason` (datafiles) or
 * `name: KEY: reason` (C definitions) and are also kept as diagnostics. */
int sp_project_add_connection(sp_project *p, sp_connection *c, sp_error *err);
int sp_project_add_datasource(sp_project *p, sp_datasource *d, sp_error *err);
int sp_project_add_pipe(sp_project *p, sp_pipe *pipe, sp_error *err);

/* sp_project_check: cross-definition checks (a sink's connection exists and
 * fits, secrets resolve, schedules parse) for every pipe.  Appends
 * diagnostics; returns SP_EDEF if there is any. */
int sp_project_check(sp_project *p, sp_error *err);
/* sp_project_check_secrets: every secret the connections reference
 * resolves (a missing one without default is a diagnostic naming it).
 * Separate from loading, so that dry runs need no secrets. */
int sp_project_check_secrets(sp_project *p, sp_error *err);
/* sp_project_check_queries: run every sink pipe's SQL (with its template
 * defaults) against empty tables of the project's datasources, in memory:
 * unknown tables, columns or functions become diagnostics `path:line: SQL:
 * reason`.  Touches no data.  With SINKPIPE_ENGINE=clickhouse the SQL runs
 * (LIMIT 0) on the project's server, whose missing tables are created. */
int sp_project_check_queries(sp_project *p, sp_error *err);
/* sp_project_check_kafka: build the librdkafka producer configuration of
 * every Kafka connection (secrets resolved through the project's
 * environment) without connecting: each rejected key is a diagnostic
 * `path:line: KEY: reason` (librdkafka's reason, never a secret value).
 * Connections whose secrets are missing are left to check_secrets. */
int sp_project_check_kafka(sp_project *p, sp_error *err);
/* sp_project_check_s3: validate every S3 and GCS connection's settings as
 * an upload would use them (region name, endpoint URLs, keys that go
 * together, a GCS service-account key that parses),
 * without network and without looking up credentials: diagnostics
 * `path:line: KEY: reason`. */
int sp_project_check_s3(sp_project *p, sp_error *err);
/* sp_project_check_all: what `sinkpipe check` runs after loading (rc: the
 * load's result): secrets always, then queries, Kafka and S3 settings
 * while nothing failed.  Returns rc, or SP_EDEF when a check failed. */
int sp_project_check_all(sp_project *p, int rc, sp_error *err);
size_t sp_project_ndiag(const sp_project *p);
const char *sp_project_diag(const sp_project *p, size_t i); /* one line */
/* sp_project_nwarning / sp_project_warning: keys the project's datafiles
 * use that sinkpipe accepts as Tinybird writes them but does nothing with
 * (TAGS, SHARED_WITH, KAFKA_* ingestion, ...), one line each,
 * `path:line: KEY: ...`, one per key and file (docs/datafiles.md). */
size_t sp_project_nwarning(const sp_project *p);
const char *sp_project_warning(const sp_project *p, size_t i);

/* sp_project_write: write every definition as `tinybird generate` does
 * (datasources/, pipes/, connections/ under outdir). */
int sp_project_write(const sp_project *p, const char *outdir, sp_error *err);

const char *sp_project_dir(const sp_project *p);
size_t sp_project_npipes(const sp_project *p);
const sp_pipe *sp_project_pipe(const sp_project *p, size_t i);
const sp_pipe *sp_project_find_pipe(const sp_project *p, const char *name);
size_t sp_project_ndatasources(const sp_project *p);
const sp_datasource *sp_project_datasource(const sp_project *p, size_t i);
size_t sp_project_nconnections(const sp_project *p);
const sp_connection *sp_project_connection(const sp_project *p, size_t i);

const char *sp_pipe_name(const sp_pipe *p);
const char *sp_pipe_schedule(const sp_pipe *p); /* NULL when not a sink */
const char *sp_pipe_service(const sp_pipe *p);  /* "kafka", "s3", NULL */
const char *sp_datasource_name(const sp_datasource *d);
const char *sp_connection_name(const sp_connection *c);

/* ------------------------------------------------------------------- data */

typedef struct sp_append_result {
    uint64_t rows_in;          /* rows read from the input */
    uint64_t rows_loaded;      /* rows stored in the datasource */
    uint64_t rows_quarantined; /* rows stored in <ds>_quarantine */
} sp_append_result;

/* sp_append_file: load NDJSON or CSV (chosen by extension: .ndjson, .jsonl,
 * .json, .csv, each optionally .gz; `format` overrides: "ndjson"|"csv") into
 * datasource `ds`.  Rows that do not fit go to `<ds>_quarantine` with the
 * reason; nothing is dropped silently.  Counts accumulate into *res. */
int sp_append_file(sp_project *p, const char *ds, const char *path,
                   const char *format, sp_append_result *res, sp_error *err);
/* sp_append_mem: the same from memory (NDJSON or CSV text). */
int sp_append_mem(sp_project *p, const char *ds, const char *data, size_t len,
                  const char *format, sp_append_result *res, sp_error *err);

/* Output callback for streamed bytes: return 0, or a negative sp_code to
 * stop (the run then fails with that code). */
typedef int (*sp_write_fn)(void *ud, const void *data, size_t len);

typedef struct sp_param {
    const char *name;
    const char *value;
} sp_param;

/* sp_query: run a ClickHouse-dialect SQL statement and stream the result in
 * `format` ("csv", "ndjson" or "parquet": exactly what a sink writes; a
 * Parquet file with the default row groups and snappy pages) to `out`.
 * now_unix: the logical time in seconds (UTC) for now()/today(); 0 = current
 * time.  *rows (may be NULL) receives the row count. */
int sp_query(sp_project *p, const char *sql, const char *format, int64_t now_unix,
             sp_write_fn out, void *ud, uint64_t *rows, sp_error *err);

/* ------------------------------------------------------------------- runs */

/* Option structs that grow (sp_run_opts, sp_serve_opts) begin with `size`:
 * set it to the size of the struct as your program sees it,
 *     struct sp_run_opts o = { .size = sizeof o, .now_unix = t };
 * The library reads the fields that fit in that size and takes the others
 * as zero, their defaults; new fields are only ever added at the end.  So
 * a program built against an older sinkpipe.h runs unchanged against a
 * newer libsinkpipe.so.0, and one built against a newer header gets
 * SP_EUNSUPPORTED from an older library only when it sets a field that
 * library does not know.  A size of 0 is SP_EINVAL.
 * The definition structs above (sp_kafka_opts, sp_sink_opts, ...) do not
 * grow: a new key reaches them through their `settings` list. */
struct sp_run_opts {
    size_t size;           /* sizeof(struct sp_run_opts) */
    int64_t now_unix;      /* logical time (UTC seconds); 0 = current time */
    const sp_param *params; /* pipe parameters */
    size_t nparams;
    int dry_run;            /* resolve keys and preview rows, write nothing */
    size_t preview_rows;    /* rows kept for the dry-run preview (default 10) */
    /* per-run overrides of the sink (NULL: as defined) */
    const char *format;
    const char *file_template;
    const char *compression;
    const char *strategy;
    const char *job_id;       /* NULL: a new UUID */
    atomic_int *cancel;       /* set to non-zero to cancel (from any thread or a
                               * signal handler); may be NULL */
    /* per-run overrides of EXPORT_MAX_FILE_SIZE ("256MB") and
     * EXPORT_MAX_FILE_ROWS (NULL: as defined; "0": no bound) */
    const char *max_file_size;
    const char *max_file_rows;
};

typedef struct sp_object_info {
    char *uri;      /* full destination, e.g. s3://bucket/key or file:///x */
    uint64_t size;  /* bytes as stored (after compression) */
    uint64_t rows;  /* rows in the object */
} sp_object_info;

typedef struct sp_run_result {
    char job_id[40];
    char *pipe;    /* pipe name */
    char *service; /* "s3", "kafka", "file" */
    char *sql;     /* the rendered SQL that ran (ClickHouse dialect) */
    uint64_t read_rows;
    uint64_t read_bytes;
    uint64_t written_rows;  /* rows delivered */
    uint64_t written_bytes; /* bytes delivered (objects: stored size) */
    uint64_t messages_acked;
    double elapsed_s;
    sp_object_info *objects; /* objects written (dry run: would be) */
    size_t nobjects;
    char *preview;           /* dry run: first rows as the sink would write */
    char *warning;           /* NULL, or one line the user should know (e.g. a
                              * Kafka run that fell back to at-least-once) */
} sp_run_result;

/* sp_run: run one sink pipe.  *res is filled even when the run fails (with
 * what was delivered); release it with sp_run_result_release(). */
int sp_run(sp_project *p, const char *pipe, const struct sp_run_opts *opts,
           sp_run_result *res, sp_error *err);
void sp_run_result_release(sp_run_result *res);
/* sp_run_job: sp_run recorded as a job (trigger "cli") in the project's
 * ops log (docs/serve.md), so that runs made outside the daemon show in
 * `sinkpipe jobs` and tinybird.sinks_ops_log.  Dry runs are not recorded.
 * A failure to write the log is returned after the run (the run's own
 * error wins). */
int sp_run_job(sp_project *p, const char *pipe, const struct sp_run_opts *opts,
               sp_run_result *res, sp_error *err);

/* sp_schedule_next_times: up to n fire times (UTC seconds) of an
 * EXPORT_SCHEDULE expression strictly after `from`; returns how many (0 for
 * @on-demand and @once) or a negative sp_code for a bad expression. */
long sp_schedule_next_times(const char *schedule, int64_t from, int64_t *out, size_t n);

/* sp_parse_time: ISO 8601 ("2026-11-25T02:00:00Z", "2026-11-25 02:00:00",
 * "2026-11-25") as UTC seconds. */
int sp_parse_time(const char *s, int64_t *out, sp_error *err);

/* ------------------------------------------------------------------ serve */

/* The daemon (docs/serve.md): the project's pipes on their schedules, jobs,
 * the ops log and a Tinybird-compatible HTTP API. */
typedef struct sp_server sp_server;

/* A log sink: one line per event (no newline), from any thread.  Lines
 * never hold a token or a secret. */
typedef void (*sp_log_fn)(void *ud, const char *line);

struct sp_serve_opts {
    size_t size;        /* sizeof(struct sp_serve_opts): see sp_run_opts */
    const char *listen; /* "127.0.0.1:7181"; port 0 picks a free port */
    int log_json;       /* each line a JSON object */
    sp_log_fn log;      /* NULL: no logging */
    void *log_ud;
};

/* sp_server_start: load the project in `dir`, record jobs a crash
 * interrupted, start the scheduler, the job workers and the HTTP API.
 * Settings come from the project's environment (docs/serve.md).
 * *created_tokens (may be NULL) receives "name value" lines of the tokens
 * created by this start, to be shown once (heap, caller frees; NULL when
 * none).  Free with sp_server_free(). */
int sp_server_start(const char *dir, const struct sp_serve_opts *o, sp_server **out,
                    char **created_tokens, sp_error *err);
/* "host:port" the API listens on (owned by the server) */
const char *sp_server_address(const sp_server *s);
/* sp_server_reload: re-read the datafiles (and tokens); when they are
 * invalid the running definitions stay and err says why.  Tokens of new
 * TOKEN lines are created as at start: *created_tokens (may be NULL) as in
 * sp_server_start.  It waits for running jobs to leave the engine: call it
 * on a thread of its own, so that sp_server_stop can run meanwhile (the
 * reload then gives up: SP_ECANCELLED).  Call sp_server_free only after it
 * returned. */
int sp_server_reload(sp_server *s, char **created_tokens, sp_error *err);
/* sp_server_stop: stop accepting requests and fires, let running jobs
 * finish for the grace period, then cancel them cleanly.  Idempotent. */
void sp_server_stop(sp_server *s);
void sp_server_free(sp_server *s); /* stops first */

/* sp_jobs_recent_json: the project's last `limit` jobs (0: all kept),
 * newest first, as a JSON array (heap text, caller frees; NULL on error). */
char *sp_jobs_recent_json(const char *dir, size_t limit, sp_error *err);

/* sp_cleanup_json: crash leftovers of the project in `dir`, as a JSON object
 * (heap text, caller frees; NULL on error):
 *   "pending": what dead runs left and no run has undone yet
 *              [{"job_id","pipe","store","object"}]
 *   "cleaned": the last `limit` leftovers undone (ops log events "cleaned")
 *              [{"job_id","pipe","store","cleaned","at"}]
 * Nothing is changed (runs and `serve` do the cleaning; docs/objects.md). */
char *sp_cleanup_json(const char *dir, size_t limit, sp_error *err);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif
