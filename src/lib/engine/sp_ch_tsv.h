/* sp_ch_tsv: ClickHouse's TabSeparatedWithNamesAndTypes, read as a stream
 * into sp_batches (internal to the ClickHouse engine).
 *
 * Bytes arrive in any chunking (sp_ch_tsv_feed); the first two lines are the
 * names and types (on_schema), every further line is one row.  Rows are
 * gathered into batches of at most `batch_rows` rows (or about 4 MiB of
 * text, whichever comes first) and handed to on_batch; memory is bounded by
 * one batch plus one row, never by the result size.
 *
 * Old servers (18.16) report an error that happens while the result streams
 * by appending "Code: NNN, e.displayText() = …" to a body that already
 * started with HTTP 200.  The reader recognises such a line: from there on
 * nothing is parsed, and sp_ch_tsv_finish fails with the server's message.
 * (A result row holding that exact text is taken as an error too:
 * docs/engine-clickhouse.md.)  Any malformed row fails the read. */
#ifndef SP_CH_TSV_H
#define SP_CH_TSV_H

#include <stddef.h>

#include "sp_batch.h"
#include "sp_buf.h"
#include "sp_ch_escape.h" /* the escapes of its fields */
#include "sp_engine.h"

typedef struct sp_ch_tsv sp_ch_tsv;

/* sp_ch_tsv_new: a reader calling on_schema/on_batch with ud (either may be
 * NULL); *out is heap (free with sp_ch_tsv_free). */
int sp_ch_tsv_new(size_t batch_rows, sp_schema_fn on_schema, sp_batch_fn on_batch, void *ud,
                  sp_ch_tsv **out, sp_error *err);
void sp_ch_tsv_free(sp_ch_tsv *r);
/* sp_ch_tsv_feed: the next bytes of the body (not retained).  Errors from
 * the callbacks come back as they are. */
int sp_ch_tsv_feed(sp_ch_tsv *r, const char *p, size_t n, sp_error *err);
/* sp_ch_tsv_finish: end of the body: the last batch goes out, or the
 * server's appended exception becomes the error (SP_ESQL). */
int sp_ch_tsv_finish(sp_ch_tsv *r, sp_error *err);
/* sp_ch_tsv_doc_end: the document fed so far ended (embedded ClickHouse
 * streams each chunk as a whole document, header included): the next two
 * lines are its header again, checked against the first one. */
int sp_ch_tsv_doc_end(sp_ch_tsv *r, sp_error *err);
/* rows delivered so far */
unsigned long long sp_ch_tsv_rows(const sp_ch_tsv *r);

/* sp_ch_exception: when text (an error body or an appended tail) holds a
 * ClickHouse exception, write "message (code N)" into out and return N;
 * else 0.  Recognises 18.16's "Code: N, e.displayText() = DB::Exception: …,
 * e.what() = …" and newer "Code: N. DB::Exception: … (NAME) (version …)". */
int sp_ch_exception(const char *text, size_t n, char *out, size_t outsz);

/* sp_ch_code_retriable: the retriable flag (SP_RETRIABLE or SP_FATAL) of a
 * ClickHouse exception code: the server was short of something for a while
 * (159 TIMEOUT_EXCEEDED, 202 TOO_MANY_SIMULTANEOUS_QUERIES, 203
 * NO_FREE_CONNECTION, 209 SOCKET_TIMEOUT, 210 NETWORK_ERROR, 242
 * TABLE_IS_READ_ONLY, 252 TOO_MANY_PARTS, 285 TOO_FEW_LIVE_REPLICAS, 473
 * DEADLOCK_AVOIDED, 999 KEEPER_EXCEPTION) or the statement itself is wrong
 * (every other code: SYNTAX_ERROR, UNKNOWN_TABLE, …). */
int sp_ch_code_retriable(int code);


#endif
