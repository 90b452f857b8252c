/* sp_sink: where a run's rows go, behind a small function table.
 *
 *   objects (sp_sink_objects.c): file-like sinks — file:// bucket URIs, S3
 *            connections (local folder endpoint now, real S3 later through
 *            sp_store) — applying file templates, partitioning, formats,
 *            codecs and strategies.
 *   kafka   (sp_sink_kafka.c): one message per row.
 *
 * Life of a sink in a run: open (with the result schema) -> write (each
 * batch) -> finish (commit: objects become visible, messages acknowledged)
 * or abort (nothing partial stays visible).  finish/abort fill the run
 * result with what was delivered. */
#ifndef SP_SINK_H
#define SP_SINK_H

#include <stdint.h>

#include "sp_batch.h"
#include "sp_model.h"

/* A sink fully resolved for one run: definition + per-run overrides +
 * connection settings with secrets and environment overrides applied. */
typedef struct sp_sinkcfg {
    const sp_pipe *pipe;
    const char *connection_name;
    sp_conn_type conn_type;
    sp_settings conn;         /* resolved connection keys */
    const struct sp_env *env; /* the project's environment (borrowed; the
                               * AWS credentials chain reads it) */
    const sp_kvlist *keys;    /* the pipe's raw EXPORT_* keys (extensions) */
    char *topic;              /* Kafka */
    char *bucket_uri;         /* objects: template text, e.g. s3://b/{year}/ */
    char *file_template;      /* objects: template text */
    char *format;             /* "csv" | "ndjson" | "parquet" */
    char *compression;        /* "none" | "gzip" | "snappy" | "zstd" */
    int compression_set;      /* given (key or override): parquet's default
                               * page compression is snappy, not none */
    uint64_t parquet_row_group_rows; /* 0: the default */
    sp_strategy strategy;
    char *schedule;
    /* files roll over past these bounds (docs/objects.md); 0 = no bound */
    uint64_t max_file_size; /* bytes as stored (after compression) */
    uint64_t max_file_rows;
} sp_sinkcfg;

/* sp_sinkcfg_build: resolve pipe `pipe` of project `p` for a run with the
 * overrides of opts (format, file_template, compression, strategy, file
 * bounds).  Errors
 * name the pipe and key; unknown override values list the accepted ones. */
int sp_sinkcfg_build(sp_project *p, const sp_pipe *pipe, const struct sp_run_opts *opts,
                     sp_sinkcfg *out, sp_error *err);
void sp_sinkcfg_release(sp_sinkcfg *c);

typedef struct sp_sink sp_sink;

/* Everything a sink needs to know about the run. */
typedef struct sp_sink_ctx {
    const sp_sinkcfg *cfg;
    const char *job_id;
    int64_t now_unix;       /* logical time (UTC seconds) */
    const sp_param *params; /* request params (file-name placeholders) */
    size_t nparams;
    int dry_run;
    size_t preview_rows;
    atomic_int *cancel;
    /* journal: the run's journal (borrowed, may be NULL): what the sink
     * starts outside the destination (temp files, uploads, transactions)
     * is written there first (sp_journal.h) */
    struct sp_journal *journal;
} sp_sink_ctx;

typedef struct sp_sink_vt {
    const char *name; /* "objects", "kafka" */
    int (*open)(sp_sink **out, const sp_sink_ctx *ctx, const sp_schema *s, sp_error *err);
    int (*write)(sp_sink *k, const sp_batch *b, sp_error *err);
    int (*finish)(sp_sink *k, sp_run_result *res, sp_error *err);
    void (*abort)(sp_sink *k, sp_run_result *res);
    void (*free)(sp_sink *k);
} sp_sink_vt;

struct sp_sink {
    const sp_sink_vt *vt;
};

extern const sp_sink_vt sp_sink_objects;
extern const sp_sink_vt sp_sink_kafka; /* sp_sink_kafka.c */

/* sp_sink_kafka_recover: a dead run's open transaction (journal entry
 * "store": "kafka"): fence transactional.id tid on cfg's connection, which
 * makes the coordinator abort it.  `what` receives what was done. */
int sp_sink_kafka_recover(const sp_sinkcfg *cfg, const char *tid, char *what, size_t whatsz,
                          sp_error *err);

/* sp_sink_for: the sink implementation for a resolved config, or SP_EDEF /
 * SP_EUNSUPPORTED naming the connection type. */
int sp_sink_for(const sp_sinkcfg *cfg, const sp_sink_vt **out, sp_error *err);

/* sp_run_result_add_object: append an object entry (uri copied). */
int sp_run_result_add_object(sp_run_result *res, const char *uri, uint64_t size,
                             uint64_t rows);

#endif
