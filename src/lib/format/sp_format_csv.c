/* sp_format_csv: ClickHouse CSVWithNames.
 *
 * Header: every column name double-quoted.  Cells: numbers, Bool
 * (true/false), Decimal and 128/256-bit integers bare; String, FixedString,
 * UUID, IPv4/6, Enum, JSON, Date and DateTime double-quoted with '"' doubled
 * and nothing else escaped; NULL as \N; Array and Map as one quoted cell
 * holding ClickHouse's text form (['a','b\'c'], {'k':1}); a Tuple spread
 * over one cell per element (as ClickHouse writes it, with one name in the
 * header); rows end with "\n".  See docs/formats.md. */
#include <stdint.h>
#include <string.h>

#include "sp_error.h"
#include "sp_format.h"
#include "sp_format_int.h"
#include "sp_banned.h"

static char *csv_string(char *p, const char *s, size_t n)
{
    *p++ = '"';
    if (n <= 64) {
        /* short strings: 8 bytes at a time, a word without '"' copied whole
         * (SWAR zero-byte test on w ^ "\"\"\"…"), beats memchr + memcpy calls */
        size_t j = 0;
        for (; j + 8 <= n; j += 8) {
            uint64_t w, x;
            memcpy(&w, s + j, 8);
            x = w ^ 0x2222222222222222ull;
            if (((x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull) == 0) {
                memcpy(p, &w, 8);
                p += 8;
                continue;
            }
            for (size_t k = j; k < j + 8; k++) {
                *p++ = s[k];
                if (s[k] == '"')
                    *p++ = '"';
            }
        }
        for (; j < n; j++) {
            *p++ = s[j];
            if (s[j] == '"')
                *p++ = '"';
        }
        *p++ = '"';
        return p;
    }
    const char *end = s + n;
    while (s < end) {
        const char *q = memchr(s, '"', (size_t)(end - s));
        size_t run = q ? (size_t)(q - s) : (size_t)(end - s);
        memcpy(p, s, run);
        p += run;
        s += run;
        if (q) {
            *p++ = '"';
            *p++ = '"';
            s++;
        }
    }
    *p++ = '"';
    return p;
}

static char *csv_cell(char *p, const sp_column *c, size_t i)
{
    if (c->nulls && c->nulls[i]) {
        memcpy(p, "\\N", 2);
        return p + 2;
    }
    switch (c->type->kind) {
    case SP_T_NOTHING:
        memcpy(p, "\\N", 2);
        return p + 2;
    case SP_T_BOOL:
    case SP_T_INT8:
    case SP_T_INT16:
    case SP_T_INT32:
    case SP_T_INT64:
    case SP_T_UINT8:
    case SP_T_UINT16:
    case SP_T_UINT32:
    case SP_T_UINT64:
    case SP_T_FLOAT32:
    case SP_T_FLOAT64:
        return sp__fmt_scalar(p, c, i);
    case SP_T_INT128:
    case SP_T_INT256:
    case SP_T_UINT128:
    case SP_T_UINT256:
    case SP_T_DECIMAL:
        memcpy(p, c->v.str[i].p, c->v.str[i].n);
        return p + c->v.str[i].n;
    case SP_T_DATE:
    case SP_T_DATE32:
    case SP_T_DATETIME:
    case SP_T_DATETIME64:
        *p++ = '"';
        p = sp__fmt_scalar(p, c, i);
        *p++ = '"';
        return p;
    case SP_T_ARRAY:
    case SP_T_MAP:
        *p++ = '"';
        p = sp__fmt_quoted_text(p, c, i, 1);
        *p++ = '"';
        return p;
    case SP_T_TUPLE:
        for (size_t j = 0; j < c->nchild; j++) {
            if (j)
                *p++ = ',';
            p = csv_cell(p, &c->child[j], i);
        }
        return p;
    default: /* String, FixedString, UUID, IPv4/6, Enum, JSON */
        return csv_string(p, c->v.str[i].p, c->v.str[i].n);
    }
}

/* a header name: a Tuple column is one column per element in CSV (its
 * cells are written flat), named `col.elem` (or `col.1`, …), recursively,
 * as ClickHouse's CSVWithNames names them */
static int header_name(sp_buf *out, const char *prefix, const sp_type *t, int *first,
                       sp_error *err)
{
    if (t && t->kind == SP_T_TUPLE && !t->nullable && t->nelems) {
        sp_buf nm = SP_BUF_INIT(1 << 20);
        int rc = 0;
        for (size_t i = 0; !rc && i < t->nelems; i++) {
            sp_buf_reset(&nm);
            if (t->names && t->names[i])
                rc = sp_buf_addf(&nm, err, "%s.%s", prefix, t->names[i]);
            else
                rc = sp_buf_addf(&nm, err, "%s.%zu", prefix, i + 1);
            if (!rc)
                rc = header_name(out, nm.data, t->elems[i], first, err);
        }
        sp_buf_release(&nm);
        return rc;
    }
    size_t n = strlen(prefix);
    int rc;
    char *p = sp__fmt_begin(out, 2 * n + 4, err, &rc);
    if (!p)
        return rc;
    if (!*first)
        *p++ = ',';
    *first = 0;
    p = csv_string(p, prefix, n);
    sp__fmt_end(out, p);
    return 0;
}

static int csv_header(sp_buf *out, const sp_schema *s, sp_error *err)
{
    int first = 1, rc = 0;
    for (size_t j = 0; j < s->ncols && !rc; j++)
        rc = header_name(out, s->names[j] ? s->names[j] : "", s->types ? s->types[j] : NULL,
                         &first, err);
    if (rc)
        return rc;
    char *p = sp__fmt_begin(out, 1, err, &rc);
    if (!p)
        return rc;
    *p++ = '\n';
    sp__fmt_end(out, p);
    return 0;
}

static int csv_rows(sp_buf *out, const sp_schema *s, const sp_batch *b, size_t from, size_t to,
                    sp_error *err)
{
    (void)s;
    const sp_column *cols = b->cols;
    size_t ncols = b->ncols;
    for (size_t i = from; i < to; i++) {
        size_t need = ncols + 1;
        for (size_t j = 0; j < ncols; j++)
            need += sp__fmt_bound(&cols[j], i, SP__FMT_CSV);
        int rc;
        char *p = sp__fmt_begin(out, need, err, &rc);
        if (!p)
            return sp_error_set(err, rc, 0, "csv: row %zu does not fit in the output buffer",
                                i);
        for (size_t j = 0; j < ncols; j++) {
            if (j)
                *p++ = ',';
            p = csv_cell(p, &cols[j], i);
        }
        *p++ = '\n';
        sp__fmt_end(out, p);
    }
    return 0;
}

static int csv_row(sp_buf *out, const sp_schema *s, const sp_batch *b, size_t i, sp_error *err)
{
    return csv_rows(out, s, b, i, i + 1, err);
}

const sp_format sp_format_csv = {
    .name = "csv", .ext = "csv", .content_type = "text/csv",
    .header = csv_header, .row = csv_row, .rows = csv_rows,
};
