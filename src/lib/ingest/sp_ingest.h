/* sp_ingest: turn NDJSON or CSV input into validated rows of a datasource.
 *
 * For each record: NDJSON values are taken by the column's jsonpath
 * (`json:$.a.b`, default `$.<column name>`); CSV fields by position (a header
 * row naming the columns is recognised and skipped).  Missing values take
 * the column's DEFAULT (evaluated once per load through the engine), else
 * NULL for Nullable columns; a non-Nullable column without DEFAULT sends the
 * row to the quarantine (as Tinybird does; docs/ingest.md).  A value that
 * does not convert to its column type rejects the whole row to the
 * quarantine with the reason.  Rows are handed
 * to the engine in batches; memory is bounded by the batch size. */
#ifndef SP_INGEST_H
#define SP_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "sp_engine.h"

typedef enum sp_ingest_format { SP_INGEST_NDJSON, SP_INGEST_CSV } sp_ingest_format;

typedef struct sp_ingest sp_ingest;

/* sp_ingest_new: prepare a load into `ds` (the engine evaluates DEFAULTs). */
int sp_ingest_new(sp_engine *e, const sp_datasource *ds, sp_ingest_format fmt,
                  int64_t now_unix, sp_ingest **out, sp_error *err);
/* sp_ingest_feed: feed bytes (any split; records may span calls). */
int sp_ingest_feed(sp_ingest *in, const char *data, size_t len, sp_error *err);
/* sp_ingest_finish: flush the last record and batch; fill counts. */
int sp_ingest_finish(sp_ingest *in, sp_append_result *res, sp_error *err);
void sp_ingest_free(sp_ingest *in);

#endif
