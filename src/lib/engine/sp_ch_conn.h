/* sp_ch_conn: how the ClickHouse engine reaches a ClickHouse (internal to
 * sp_engine_clickhouse.c and its two transports).
 *
 * The engine (sp_engine_clickhouse.c) owns everything about ClickHouse SQL:
 * DDL from the datafiles, the logical time, type mapping, result decoding,
 * errors.  A transport only carries one statement at a time and its answer:
 *
 *   sp_ch_http.c   a ClickHouse server over its HTTP interface (libcurl)
 *   sp_ch_chdb.c   ClickHouse embedded in this process (chDB's libchdb.so,
 *                  loaded with dlopen when the first connection opens)
 *
 * Both take the statement without a FORMAT clause and the format apart.  A
 * transport's answer arrives through on_chunk: over HTTP, bytes of one
 * document in any split; with chDB, each chunk is a complete document of
 * its own (header included), which the transport's SP_CH_DOC_CHUNKS flag
 * says. */
#ifndef SP_CH_CONN_H
#define SP_CH_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "sinkpipe.h"

typedef struct sp_ch_conn sp_ch_conn;

/* on_chunk: the next bytes of the answer (not retained after the call) */
typedef int (*sp_ch_chunk_fn)(void *ud, const char *p, size_t n, sp_error *err);

typedef struct sp_ch_stmt {
    const char *sql; /* the statement, without FORMAT; not NUL-terminated */
    size_t len;
    const char *format; /* answer format (SELECT) or input format (INSERT), may be NULL */
    const char *const *settings; /* "name=value" for this statement, NULL-ended, or NULL */
    const char *query_id;        /* for kill(); may be NULL */
    int read_only;               /* the statement may only read (pipe SQL) */
    int describe; /* answer DESCRIBE (<sql>) instead of running it, whole */
    const char *data;            /* INSERT: the rows in `format` */
    size_t datalen;
    sp_ch_chunk_fn on_chunk; /* the answer; NULL: read whole and discarded */
    void *ud;
    atomic_int *cancel; /* polled while the answer streams; may be NULL */
    uint64_t timeout_ms;  /* the client's own deadline (0 = none) */
    int kill;             /* internal to sp_ch_http: the daemon's kill request */
} sp_ch_stmt;

#define SP_CH_DOC_CHUNKS 1u /* each on_chunk call carries a whole document */

typedef struct sp_ch_conn_vt {
    const char *name; /* "http", "chdb" */
    unsigned flags;
    /* run: one statement; errors are SP_ESQL (ClickHouse refused it, its
     * message), SP_ENET/SP_EENGINE (the transport), SP_ECANCELLED, or what
     * on_chunk returned */
    int (*run)(sp_ch_conn *c, const sp_ch_stmt *st, sp_error *err);
    /* kill: from another thread, stop the statement running with query_id */
    void (*kill)(sp_ch_conn *c, const char *query_id);
    /* streamed inserts (NULL when the transport has none: one insert per
     * push instead).  insert_open starts `INSERT INTO t (…)` (sql, without
     * FORMAT) in `format`; insert_push adds rows; insert_close commits
     * (commit = 1) or abandons the insert and frees *h.  While an insert is
     * open the connection still runs other statements. */
    int (*insert_open)(sp_ch_conn *c, const char *sql, size_t len, const char *format,
                       void **h, sp_error *err);
    int (*insert_push)(sp_ch_conn *c, void *h, const char *data, size_t len, sp_error *err);
    int (*insert_close)(sp_ch_conn *c, void *h, int commit, sp_error *err);
    /* where: "clickhouse at http://host:port" / "embedded clickhouse" */
    const char *(*where)(const sp_ch_conn *c);
    void (*close)(sp_ch_conn *c);
} sp_ch_conn_vt;

struct sp_ch_conn {
    const sp_ch_conn_vt *vt;
};

/* sp_ch_http_open: a connection to the server at o->url (see sp_engine.h's
 * sp_clickhouse_opts); the strings are copied. */
struct sp_clickhouse_opts;
int sp_ch_http_open(const struct sp_clickhouse_opts *o, sp_ch_conn **out, sp_error *err);

/* sp_ch_chdb_open: an embedded connection (sp_ch_chdb.c).  path: the
 * storage folder ("" in memory; NULL: the folder this process already
 * uses, else in memory).  One process uses one folder at a time (chDB's
 * rule): another folder while a connection is open fails with SP_EBUSY; a
 * folder held by another process fails with SP_EBUSY naming its pid.
 * database: the database the connection works in (created; NULL =
 * "sinkpipe"); drop_on_close drops it when the connection closes (scratch
 * databases of `check`).  settings: "name=value" for every statement of the
 * connection (NULL-ended, may be NULL; must stay valid while the
 * connection is open).  The other strings are copied. */
typedef struct sp_chdb_opts {
    const char *library; /* libchdb.so to load (first open only); NULL: the default */
    const char *path;
    const char *database;
    int drop_on_close;
    const char *const *settings;
} sp_chdb_opts;
int sp_ch_chdb_open(const sp_chdb_opts *o, sp_ch_conn **out, sp_error *err);
/* sp_ch_embedded_settings: what every embedded connection of sinkpipe's
 * runs with (the engine's and the daemon's socket's alike): DateTime shown
 * independently of the machine (session_timezone=UTC), Tinybird's grouping
 * and sorting by JSON/Dynamic sub-columns, JSON as its text in binary and
 * Native results and RowBinary inserts, and SQL read as on a server
 * (implicit_select=0: `1 + 1` is not a query).  NULL-ended. */
extern const char *const sp_ch_embedded_settings[];

/* the loaded library's version ("26.7.3"), or NULL before the first open */
const char *sp_ch_chdb_version(void);

#endif
