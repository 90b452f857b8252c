/* sp_model: the definition objects (connections, datasources, pipes) behind
 * the opaque public types, and the project that owns them.
 *
 * One model: the datafile loader (sp_datafile.c) and the C SDK constructors
 * (sp_sdk.c) both build these through the same constructors, and the same
 * validators (sp_model.c) check them.  Every definition keeps its keys as an
 * ordered list of raw KEY/value pairs (unresolved: secrets stay as
 * {{ tb_secret(...) }}), each with the line it came from (0 for C), so that
 * errors point at the source and writing a project back out round-trips.
 * Typed fields are derived from the keys by validation. */
#ifndef SP_MODEL_H
#define SP_MODEL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "sinkpipe.h"
#include "sp_buf.h"
#include "sp_env.h"

typedef struct sp_kv {
    char *key;
    char *value; /* raw text; a '>' block's body joined with '\n' */
    int line;    /* 1-based line in `path`, 0 when defined in C */
} sp_kv;

typedef struct sp_kvlist {
    sp_kv *v;
    size_t n, cap;
} sp_kvlist;

int sp_kvlist_add(sp_kvlist *l, const char *key, const char *value, int line);
/* sp_kvlist_set: replace the value of key (keeps its position), or add. */
int sp_kvlist_set(sp_kvlist *l, const char *key, const char *value, int line);
const sp_kv *sp_kvlist_find(const sp_kvlist *l, const char *key);
const char *sp_kvlist_get(const sp_kvlist *l, const char *key); /* value/NULL */
void sp_kvlist_remove(sp_kvlist *l, const char *key);
void sp_kvlist_release(sp_kvlist *l);

typedef enum sp_conn_type { SP_CONN_KAFKA, SP_CONN_S3, SP_CONN_GCS } sp_conn_type;

struct sp_connection {
    char *name;
    char *path; /* source file, or NULL when defined in C */
    sp_conn_type type;
    int type_line;
    sp_kvlist keys; /* every key but TYPE, file order */
};

typedef struct sp_token {
    char *name;
    char *scope; /* READ, APPEND */
    int line;
} sp_token;
/* sp_token_defs_free: n TOKEN lines and the array (sp_defs.c) */
void sp_token_defs_free(sp_token *t, size_t n);

typedef struct sp_column_def {
    char *name;
    char *type; /* ClickHouse type text as written */
    char *jsonpath;
    char *default_expr;
    char *codec;
    int line;
} sp_column_def;

struct sp_datasource {
    char *name;
    char *path;
    char *description;
    sp_column_def *cols;
    size_t ncols;
    sp_kvlist keys; /* ENGINE, ENGINE_* and any other keys, file order */
    sp_token *tokens;
    size_t ntokens;
    int schema_line;
};

typedef struct sp_node {
    char *name;
    char *description;
    char *sql; /* as written (template markers included, no leading '%' line) */
    int templated; /* the SQL block started with a lone '%' line */
    int line;      /* NODE line */
    int sql_line;  /* first line of the SQL body */
} sp_node;

typedef enum sp_pipe_type {
    SP_PIPE_DEFAULT = 0, /* no TYPE: endpoint-less pipe */
    SP_PIPE_ENDPOINT,
    SP_PIPE_SINK,
    SP_PIPE_COPY,
    SP_PIPE_MATERIALIZED
} sp_pipe_type;

typedef enum sp_strategy { SP_STRATEGY_CREATE_NEW = 0, SP_STRATEGY_REPLACE } sp_strategy;

struct sp_pipe {
    char *name;
    char *path;
    char *description;
    sp_node *nodes;
    size_t nnodes;
    sp_pipe_type type;
    int type_line;
    sp_kvlist keys; /* EXPORT_* and other pipe-level keys, file order */
    sp_token *tokens;
    size_t ntokens;
};

/* The sink of a pipe, validated and with defaults applied (not resolved
 * against secrets or overrides: that is sp_sinkcfg, at run time). */
/* the largest EXPORT_PARQUET_ROW_GROUP_SIZE (memory is bounded by bytes
 * anyway: a row group also closes at a byte bound, docs/formats.md) */
#define SP_PARQUET_ROW_GROUP_MAX 100000000ull

typedef struct sp_sink_def {
    const char *connection;    /* EXPORT_CONNECTION_NAME */
    const char *service;       /* EXPORT_SERVICE if given: kafka, s3, s3_iamrole */
    const char *topic;         /* EXPORT_KAFKA_TOPIC */
    const char *bucket_uri;    /* EXPORT_BUCKET_URI */
    const char *file_template; /* EXPORT_FILE_TEMPLATE */
    const char *schedule;      /* EXPORT_SCHEDULE, default @on-demand */
    const char *format;        /* csv | ndjson | parquet (default csv) */
    const char *compression;   /* none | gzip | snappy | zstd (default none) */
    int compression_set;       /* EXPORT_COMPRESSION was given (parquet's
                                * pages default to snappy, not none) */
    uint64_t parquet_row_group_rows; /* EXPORT_PARQUET_ROW_GROUP_SIZE, 0: default */
    sp_strategy strategy;      /* default create_new */
    /* EXPORT_MAX_FILE_SIZE (bytes as stored), EXPORT_MAX_FILE_ROWS; 0 = no
     * bound (objects only: a kafka sink with either is an error) */
    uint64_t max_file_size, max_file_rows;
    int max_file_size_line, max_file_rows_line;
} sp_sink_def;

/* sp_pipe_sink: the sink definition of a TYPE sink pipe (pointers into the
 * pipe's keys).  SP_EDEF when the pipe is not a sink. */
int sp_pipe_sink(const sp_pipe *p, sp_sink_def *out, sp_error *err);

/* sp_pipe_validate / sp_connection_validate / sp_datasource_validate: the
 * checks of one definition on its own, errors `path:line: KEY: reason` (or
 * `name: KEY: reason` for C definitions) naming the accepted values. */
int sp_pipe_validate(const sp_pipe *p, sp_error *err);
int sp_connection_validate(const sp_connection *c, sp_error *err);
int sp_datasource_validate(const sp_datasource *d, sp_error *err);

/* sp_model_where: "path:line: KEY" or "name: KEY" into buf (line 0, for
 * something missing from the file, is given as line 1). */
void sp_model_where(char *buf, size_t n, const char *path, const char *name,
                    int line, const char *key);

/* A place in the definitions: its text as sp_model_where writes it, and the
 * same facts as fields (borrowed: they live as long as the definition). */
typedef struct sp_where {
    char text[512];
    const char *path; /* NULL for C definitions */
    int line;
    const char *key;
} sp_where;

/* sp_where_at: fill w for that place. */
void sp_where_at(sp_where *w, const char *path, const char *name, int line, const char *key);

/* sp_where_set: a definition error "<w->text>: <fmt…>" whose path, line and
 * key are recorded as fields of err (sp_error_locate).  Returns code. */
int sp_where_set(sp_error *err, const sp_where *w, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int sp_where_vset(sp_error *err, const sp_where *w, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
#define sp_model_set(err, w, code, ...) sp_where_set((err), &(w), (code), __VA_ARGS__)

/* Resolved connection settings: overrides applied, secrets resolved. */
typedef struct sp_setting {
    char *key;
    char *value;
    int secret; /* value came from a secret: never print it */
} sp_setting;

typedef struct sp_settings {
    sp_setting *v;
    size_t n;
} sp_settings;

int sp_connection_resolve(const sp_connection *c, const sp_env *env,
                          sp_settings *out, sp_error *err);
const char *sp_settings_get(const sp_settings *s, const char *key);
void sp_settings_release(sp_settings *s);

/* One diagnostic: its text as printed ("path:line: KEY: reason") and the
 * same facts as fields, for programs (path/key NULL and line 0 when the
 * diagnostic does not point into a file). */
typedef struct sp_diag {
    char *text;
    char *path;
    int line;
    char *key;
    int code; /* the sp_code of the failure (SP_EDEF, SP_ESECRET, SP_ESQL…) */
} sp_diag;

struct sp_project {
    char *dir;
    sp_connection **conns;
    size_t nconns;
    sp_datasource **dss;
    size_t ndss;
    sp_pipe **pipes;
    size_t npipes;
    sp_diag *diags;
    size_t ndiags;
    char **warns; /* keys accepted with no effect (sp_project_warning) */
    size_t nwarns;
    sp_env *env;            /* opened lazily by sp_project_env() */
    /* what a higher layer hangs on the project: the data layer (sp_data.c)
     * attaches the engine it opens lazily in sp_project_engine().  The
     * project frees it through att_free and knows nothing else of it, so the
     * model never includes or calls the layers above it. */
    void *att;
    void (*att_free)(void *att);
};

const sp_connection *sp_project_find_connection(const sp_project *p, const char *name);
const sp_datasource *sp_project_find_datasource(const sp_project *p, const char *name);
/* sp_project_add_diag_at: a diagnostic with its fields (text, path and key
 * copied; path and key may be NULL); sp_project_add_diag: one that knows
 * only its text and code.  0 or SP_ENOMEM. */
int sp_project_add_diag_at(sp_project *p, const char *path, int line, const char *key,
                           int code, const char *text);
int sp_project_add_diag(sp_project *p, int code, const char *text);
/* sp_project_diag_at: diagnostic i, or NULL */
const sp_diag *sp_project_diag_at(const sp_project *p, size_t i);
/* sp_project_check_secrets: every tb_secret() of every connection (after
 * environment overrides) resolves; each missing one is a diagnostic naming
 * the secret (never a value).  SP_ESECRET if any is missing.  Separate from
 * sp_project_check so that loading works without secrets (dry runs). */
int sp_project_check_secrets(sp_project *p, sp_error *err);
/* sp_project_datafile_kind: 0 .connection, 1 .datasource, 2 .pipe (by the
 * name's extension), -1 otherwise; the order definitions are added in. */
int sp_project_datafile_kind(const char *name);
/* sp_project_add_text: parse one datafile's text (`rel`: its path as the
 * diagnostics name it, kind by extension) and add it to p; a failure is a
 * diagnostic of p and the first failure fills err (sp_project_load's way). */
int sp_project_add_text(sp_project *p, const char *rel, const char *text, size_t len,
                        sp_error *err);
/* sp_project_env: the project's environment snapshot (opened on first use). */
int sp_project_env(sp_project *p, const sp_env **out, sp_error *err);

/* Datafile writing (sp_dfwrite.c): one definition as `tinybird generate`
 * writes it (no trailing newline). */
int sp_connection_write(const sp_connection *c, sp_buf *out, sp_error *err);
int sp_datasource_write(const sp_datasource *d, sp_buf *out, sp_error *err);
int sp_pipe_write(const sp_pipe *p, sp_buf *out, sp_error *err);

/* Datafile parsing (sp_datafile.c): one file's text into a definition.
 * kind by extension: .connection, .datasource, .pipe; the name is the file
 * name without extension.  Errors `path:line: KEY: reason`. */
int sp_datafile_parse_connection(const char *path, const char *text, size_t len,
                                 sp_connection **out, sp_error *err);
int sp_datafile_parse_datasource(const char *path, const char *text, size_t len,
                                 sp_datasource **out, sp_error *err);
int sp_datafile_parse_pipe(const char *path, const char *text, size_t len,
                           sp_pipe **out, sp_error *err);

#endif
