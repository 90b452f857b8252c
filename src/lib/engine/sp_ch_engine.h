/* sp_ch_engine: the ClickHouse engine's object and the SQL helpers its parts
 * share (internal to the engine).
 *
 * The engine (sp_engine.h) over ClickHouse is one object, sp_ch_engine, and
 * its parts, each a module of its own:
 *   sp_engine_clickhouse  open, close, interrupt, the function tables;
 *   sp_ch_engine          this object's helpers: statements, table names,
 *                         DESCRIBE, INSERT … SELECT, drop, swap;
 *   sp_ch_ddl             tables from the datafiles (SCHEMA, ENGINE_* keys);
 *   sp_ch_views           materialized views;
 *   sp_ch_load            loads through staging tables (append, quarantine,
 *                         replace, formatted loads), dead loads' cleanup;
 *   sp_ch_query           streaming queries and scalar expressions;
 *   sp_ch_ops             copies, truncate, delete.
 * Every function takes the engine and a caller-owned error record; names
 * are copied, never kept. */
#ifndef SP_CH_ENGINE_H
#define SP_CH_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "sp_buf.h"
#include "sp_ch_escape.h" /* sp_ch_quote_string */
#include "sp_ch_conn.h"
#include "sp_engine.h"
#include "sp_error.h"

#define SP_CH_SQL_MAX ((size_t)64 << 20)
#define SP_CH_SMALL_MAX ((size_t)16 << 20) /* answers read whole (table layouts) */
#define SP_CH_INS_PUSH ((size_t)16 << 20)  /* a streamed load's rows per push */

/* a staging table (sp_ch_load.h) */
typedef struct sp_ch_stage {
    char *table; /* the real table */
    char *stage; /* its staging table, NULL: loaded directly */
    int sync;    /* DROP ... SYNC (an Atomic database) */
    int views;   /* materialized views read the table: INSERT … SELECT */
} sp_ch_stage;

typedef struct sp_ch_engine {
    sp_engine base;
    sp_ch_conn *conn;
    char *database; /* tables are qualified with it (server), or NULL */
    pthread_mutex_t mu;
    char qid[160]; /* the running query's id, "" when none */
    unsigned long seq;
    atomic_int interrupted;
    /* the open load (sp_ch_load.h): its datasource, the staging tables of
     * its rows and rejected rows, the rows' streamed insert (transports
     * that can) and the rows not pushed yet (pushed by SP_CH_INS_PUSH bytes) */
    char *load_ds;
    sp_ch_stage rows, qrows;
    void *ins;
    sp_buf insbuf;
    int cleaned; /* dead loads' staging tables dropped (first ensure) */
} sp_ch_engine;

/* sp_ch_engine_exec: a statement whose answer is small (DDL, table layouts),
 * read whole as TabSeparated into out (may be NULL). */
int sp_ch_engine_exec(sp_ch_engine *e, const char *sql, sp_buf *out, sp_error *err);
/* sp_ch_engine_exec_as: the same under query id qid (may be NULL), stopped
 * when *cancel (may be NULL) turns non-zero. */
int sp_ch_engine_exec_as(sp_ch_engine *e, const char *sql, const char *qid,
                         atomic_int *cancel, sp_buf *out, sp_error *err);
/* sp_ch_engine_ref: the table's name, qualified with the engine's database
 * when it has one, appended to q; sp_ch_engine_add_ref: `text` first. */
int sp_ch_engine_ref(sp_ch_engine *e, sp_buf *q, const char *table, sp_error *err);
int sp_ch_engine_add_ref(sp_ch_engine *e, sp_buf *q, const char *text, const char *table,
                         sp_error *err);
/* sp_ch_engine_db_name: the database as a string literal (or
 * currentDatabase()), appended to q. */
int sp_ch_engine_db_name(sp_ch_engine *e, sp_buf *q, sp_error *err);
/* sp_ch_engine_from_system: "(the database's engine) FROM system.<from>
 * WHERE database = …" appended to q. */
int sp_ch_engine_from_system(sp_ch_engine *e, sp_buf *q, const char *from, sp_error *err);
/* sp_ch_engine_layout: "name\tType\n" lines of the table's columns into out
 * ("" when it does not exist). */
int sp_ch_engine_layout(sp_ch_engine *e, const char *table, sp_buf *out, sp_error *err);
/* sp_ch_engine_insert: INSERT INTO table the len bytes of data (NULL: none)
 * in format fmt. */
int sp_ch_engine_insert(sp_ch_engine *e, const char *table, const char *fmt, const char *data,
                        size_t len, sp_error *err);
/* sp_ch_engine_drop: DROP TABLE IF EXISTS (… SYNC when sync). */
int sp_ch_engine_drop(sp_ch_engine *e, const char *table, int sync, sp_error *err);
/* sp_ch_engine_swap: tables a and b trade places in one step. */
int sp_ch_engine_swap(sp_ch_engine *e, const char *a, const char *b, sp_error *err);
/* sp_ch_engine_describe: the output columns of the SELECT (len bytes at
 * sql) as DESCRIBE gives them ("name\ttype\t…" lines) appended to out,
 * checked as pipe SQL is: one reading statement, no external access. */
int sp_ch_engine_describe(sp_ch_engine *e, const char *sql, size_t len, sp_buf *out,
                          sp_error *err);
/* sp_ch_engine_insert_select: INSERT INTO table (the columns of desc, as
 * sp_ch_engine_describe gave them) SELECT * FROM (the len bytes at sql),
 * under query id qid (may be NULL), stopped when *cancel (may be NULL)
 * turns non-zero. */
int sp_ch_engine_insert_select(sp_ch_engine *e, const char *table, const sp_buf *desc,
                               const char *sql, size_t len, const char *qid,
                               atomic_int *cancel, sp_error *err);
/* sp_ch_engine_running: qid (copied; NULL: none) is the statement running
 * now, which interrupt() kills. */
void sp_ch_engine_running(sp_ch_engine *e, const char *qid);
/* sp_ch_engine_query_id: o->query_id, or a new id of this process, into
 * out (size n). */
void sp_ch_engine_query_id(sp_ch_engine *e, const sp_query_opts *o, char *out, size_t n);

#endif
