/* sp_ch_load: the ClickHouse engine's loads (internal to the engine).
 *
 * A load (the appends and quarantined rows of one `append` file or one
 * Events API round, until flush) is all or nothing.  ClickHouse commits an
 * insert block by block (each ~max_insert_block_size rows becomes a part
 * as it arrives), and the rows and the rejected rows go to two tables, so
 * the rows are not inserted into the datasource: they go to staging
 * tables created `AS` the datasource and its quarantine
 * (`<table>__sp_load_<unix time>_<random>`), and on commit each staging
 * table's partitions are attached to the real table (`ALTER TABLE t ATTACH
 * PARTITION ID 'p' FROM stage`: the parts are hard-linked, no row is
 * copied), the quarantine first, then the staging tables are dropped.  A
 * load that fails drops them: nothing was stored.  Tables that cannot take
 * partitions from another table (not a local *MergeTree: Distributed,
 * Replicated*, Memory…) are loaded directly, as before.  Copies
 * (sp_ch_ops) stage their rows in the same staging tables; the ones a dead
 * process left are dropped when the engine is next opened
 * (sp_ch_load_stage_cleanup, from the first ensure). */
#ifndef SP_CH_LOAD_H
#define SP_CH_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "sp_ch_engine.h"

/* sp_ch_load_stage_create: the staging table of st->table (set by the
 * caller, kept) into st->stage (freed by sp_ch_load_stage_release).  Made
 * when the table is a local *MergeTree, whose partitions can be attached,
 * or always when `any` (rows moved by INSERT … SELECT or a swap); else
 * st->stage stays NULL: the table is loaded directly. */
int sp_ch_load_stage_create(sp_ch_engine *e, sp_ch_stage *st, int any, sp_error *err);
/* sp_ch_load_stage_release: drop st's staging table (at once after a load
 * that was committed) and free st's names. */
void sp_ch_load_stage_release(sp_ch_engine *e, sp_ch_stage *st, int committed);
/* sp_ch_load_stage_cleanup: drop the staging tables that dead processes
 * left (embedded: every one; a server: those older than a day). */
int sp_ch_load_stage_cleanup(sp_ch_engine *e, sp_error *err);
/* sp_ch_load_end: end the open load (none: 0): commit it (its staging
 * tables attached) or abandon it (err may be NULL then). */
int sp_ch_load_end(sp_ch_engine *e, int commit, sp_error *err);

/* the engine functions of sp_engine_vt (sp_engine.h) */
int sp_ch_load_flush(sp_engine *base, int commit, sp_error *err);
int sp_ch_load_append(sp_engine *base, const sp_datasource *ds, const sp_schema *s,
                      const sp_batch *b, sp_error *err);
int sp_ch_load_quarantine(sp_engine *base, const sp_datasource *ds, const sp_qrow *rows,
                          size_t n, int64_t now_unix, sp_error *err);
int sp_ch_load_raw(sp_engine *base, const char *ds, const char *rows, size_t rowslen,
                   uint64_t nrows, const char *qrows, size_t qlen, uint64_t nqrows,
                   sp_error *err);
int sp_ch_load_replace(sp_engine *base, const char *ds, sp_error *err);
int sp_ch_load_formatted(sp_engine *base, const char *ds, const char *format,
                         const char *data, size_t len, uint64_t *rows, sp_error *err);

#endif
