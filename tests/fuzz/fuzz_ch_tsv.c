/* fuzz_ch_tsv: the ClickHouse engine's result reader (sp_ch_tsv): a
 * TabSeparatedWithNamesAndTypes body as a server might send it, including
 * appended exceptions and cut rows.
 *
 * Input: byte 0 picks a chunk size (1..64), the rest is the body.
 * Invariants: batches hold at most 2048 rows and every row formats as CSV
 * and NDJSON (offsets, NULL maps and text views are consistent); the
 * result — error code and formatted rows — does not depend on how the body
 * is chunked; a failure leaves a one-line error message. */
#include "fuzz.h"

#include "sp_batch.h"
#include "sp_ch_tsv.h"
#include "sp_error.h"
#include "sp_format.h"

typedef struct out {
    sp_buf text;
    const sp_schema *s;
} out;

static int on_schema(void *ud, const sp_schema *s, sp_error *err)
{
    out *o = ud;
    o->s = s;
    return sp_format_csv.header(&o->text, s, err);
}

static int on_batch(void *ud, const sp_batch *b, sp_error *err)
{
    out *o = ud;
    fz_check(b->nrows > 0 && b->nrows <= 2048, "batch of %zu rows", b->nrows);
    fz_check(b->ncols == o->s->ncols, "batch of %zu columns, schema %zu", b->ncols,
             o->s->ncols);
    int rc = sp_format_csv.rows(&o->text, o->s, b, 0, b->nrows, err);
    if (!rc)
        rc = sp_format_ndjson.rows(&o->text, o->s, b, 0, b->nrows, err);
    return rc;
}

/* read body in chunks of `step` (0 = at once): the code; o->text holds the rows */
static int run(const uint8_t *body, size_t n, size_t step, out *o, sp_error *err)
{
    sp_buf_init(&o->text, (size_t)1 << 28);
    o->s = NULL;
    sp_ch_tsv *r = NULL;
    int rc = sp_ch_tsv_new(2048, on_schema, on_batch, o, &r, err);
    for (size_t off = 0; !rc && off < n;) {
        size_t k = step && n - off > step ? step : n - off;
        rc = sp_ch_tsv_feed(r, (const char *)body + off, k, err);
        off += k;
    }
    if (!rc)
        rc = sp_ch_tsv_finish(r, err);
    sp_ch_tsv_free(r);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1 << 20)
        return 0;
    size_t step = (size_t)(data[0] % 64) + 1;
    out a, b;
    sp_error ea = SP_ERROR_INIT, eb = SP_ERROR_INIT;
    int ra = run(data + 1, size - 1, 0, &a, &ea);
    int rb = run(data + 1, size - 1, step, &b, &eb);
    if (ra)
        fz_check_msg(&ea);
    if (rb)
        fz_check_msg(&eb);
    fz_check(ra == rb, "whole: %d '%s', in chunks of %zu: %d '%s'", ra, ea.msg, step, rb, eb.msg);
    if (!ra)
        fz_check(a.text.len == b.text.len &&
                     (!a.text.len || !memcmp(a.text.data, b.text.data, a.text.len)),
                 "chunking changed the rows (%zu vs %zu bytes)", a.text.len, b.text.len);
    sp_buf_release(&a.text);
    sp_buf_release(&b.text);
    return 0;
}
