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
#include "sp_journal.h"
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
    /* serves: 1 when this sink delivers a pipe resolved as cfg (the
     * registry picks the first that does) */
    int (*serves)(const sp_sinkcfg *cfg);
    /* service: what a run result names as its service ("kafka", the
     * store's name: "s3", "gcs", "file") */
    const char *(*service)(const sp_sinkcfg *cfg);
    /* dry_run: 1 when the sink runs dry itself (ctx->dry_run: names
     * resolved, nothing written); 0: a dry run previews the rows instead */
    int dry_run;
    /* journal: the journal entries' "store" this sink undoes itself, and
     * recover: how — leftover l of a dead run of the project in
     * project_dir, whose sink cfg is rebuilt from its journal; `what`
     * receives what was done.  NULL: its entries are a store's
     * (sp_store_for.h). */
    const char *journal;
    int (*recover)(const sp_sinkcfg *cfg, const char *project_dir, const sp_leftover *l,
                   char *what, size_t whatsz, sp_error *err);
} sp_sink_vt;

struct sp_sink {
    const sp_sink_vt *vt;
};

/* SP_SINKS: the sink registry, in the order sp_sink_for asks them.  Each
 * word w names the table sp_sink_<w> whose .name is "w".  Adding a sink is
 * one new file sp_sink_<name>.c defining `const sp_sink_vt sp_sink_<name>`
 * and one word here. */
#define SP_SINKS(X) X(kafka) X(objects)

#define SP_SINK_DECLARE_(w) extern const sp_sink_vt sp_sink_##w;
SP_SINKS(SP_SINK_DECLARE_)
#undef SP_SINK_DECLARE_

/* sp_sink_for: the first sink of the registry that serves cfg, or SP_EDEF
 * naming the pipe. */
int sp_sink_for(const sp_sinkcfg *cfg, const sp_sink_vt **out, sp_error *err);
/* sp_sink_for_journal: the sink that undoes journal entries of `store`
 * itself ("kafka"), NULL when none does (a store's entry) */
const sp_sink_vt *sp_sink_for_journal(const char *store);

/* sp_run_result_add_object: append an object entry (uri copied). */
int sp_run_result_add_object(sp_run_result *res, const char *uri, uint64_t size,
                             uint64_t rows);

#endif
