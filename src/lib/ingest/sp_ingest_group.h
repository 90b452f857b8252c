/* sp_ingest_group: concurrent small appends to a datasource grouped into
 * one insert (the daemon's Events API); see sp_ingest_group.c. */
#ifndef SP_INGEST_GROUP_H
#define SP_INGEST_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "sp_engine.h"
#include "sp_ingest.h"

typedef struct sp_ingest_group sp_ingest_group;

/* sp_ingest_group_new: group over engine e (not owned; used by one thread
 * at a time, from inside the group only; must stay open until free) */
int sp_ingest_group_new(sp_engine *e, sp_ingest_group **out, sp_error *err);
void sp_ingest_group_free(sp_ingest_group *g);

/* sp_ingest_group_append: validate data (NDJSON or CSV) for ds as `append`
 * does, then store its rows and rejected rows together with concurrent
 * calls'; returns once they are stored.  On failure nothing of this call
 * is stored; res then counts rows_in only.  Thread-safe. */
int sp_ingest_group_append(sp_ingest_group *g, const sp_datasource *ds, sp_ingest_format fmt,
                           const char *data, size_t len, int64_t now_unix,
                           sp_append_result *res, sp_error *err);

#endif
