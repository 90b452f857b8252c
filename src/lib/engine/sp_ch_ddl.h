/* sp_ch_ddl: the ClickHouse engine's tables from the datafiles (internal
 * to the engine): CREATE TABLE from SCHEMA, INDEXES and the ENGINE_* keys,
 * the quarantine table, an existing table checked against its datafile. */
#ifndef SP_CH_DDL_H
#define SP_CH_DDL_H

#include "sp_buf.h"
#include "sp_engine.h"

/* sp_ch_ddl_engine_clause: " ENGINE = …" from the ENGINE and ENGINE_* keys
 * in k (a datasource's, or a materialized pipe's that creates its target),
 * appended to q. */
int sp_ch_ddl_engine_clause(const sp_kvlist *k, sp_buf *q, sp_error *err);

/* sp_ch_ddl_ensure: sp_engine_vt's ensure (sp_engine.h). */
int sp_ch_ddl_ensure(sp_engine *base, const sp_datasource *ds, sp_error *err);

#endif
