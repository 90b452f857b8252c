/* sp_format_ndjson: ClickHouse JSONEachRow (with
 * output_format_json_quote_64bit_integers=0, as ClickHouse >= 25.8 writes).
 *
 * {"name":value,...}\n per row.  Strings escaped as ClickHouse does: \" \\
 * \/ \b \f \n \r \t, other bytes < 0x20 as \u00XX (upper-case hex), U+2028
 * and U+2029 as \u2028 \u2029, everything else (0x7F, non-ASCII, invalid
 * UTF-8) copied as is.  Integers of every width, Decimal and floats bare;
 * nan/inf as null; Bool true/false; Date/DateTime/UUID/IP/Enum quoted;
 * Array and unnamed Tuple as arrays; Map and named Tuple as objects (map
 * keys always JSON strings); JSON columns embedded raw; NULL null.  See
 * docs/formats.md. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "sp_error.h"
#include "sp_format.h"
#include "sp_format_int.h"
#include "sp_banned.h"

/* 0: copy; 1: needs an escape (or, for 0xE2, a look at the next bytes) */
static const unsigned char json_special[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, /* '"' '/' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* '\\' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xE2 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static char *json_string(char *p, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *u = (const unsigned char *)s;
    *p++ = '"';
    size_t j = 0;
    while (j < n) {
        size_t run = j;
        while (run < n && !json_special[u[run]])
            run++;
        memcpy(p, s + j, run - j);
        p += run - j;
        j = run;
        if (j >= n)
            break;
        unsigned char ch = u[j++];
        switch (ch) {
        case '"': *p++ = '\\'; *p++ = '"'; break;
        case '\\': *p++ = '\\'; *p++ = '\\'; break;
        case '/': *p++ = '\\'; *p++ = '/'; break;
        case '\b': *p++ = '\\'; *p++ = 'b'; break;
        case '\f': *p++ = '\\'; *p++ = 'f'; break;
        case '\n': *p++ = '\\'; *p++ = 'n'; break;
        case '\r': *p++ = '\\'; *p++ = 'r'; break;
        case '\t': *p++ = '\\'; *p++ = 't'; break;
        case 0xE2:
            if (j + 1 < n && u[j] == 0x80 && (u[j + 1] == 0xA8 || u[j + 1] == 0xA9)) {
                memcpy(p, u[j + 1] == 0xA8 ? "\\u2028" : "\\u2029", 6);
                p += 6;
                j += 2;
            } else {
                *p++ = (char)ch;
            }
            break;
        default:
            memcpy(p, "\\u00", 4);
            p[4] = hex[ch >> 4];
            p[5] = hex[ch & 15];
            p += 6;
            break;
        }
    }
    *p++ = '"';
    return p;
}

static char *json_value(char *p, const sp_column *c, size_t i);

/* a map key: always a JSON string */
static char *json_key(char *p, const sp_column *c, size_t i)
{
    sp_kind k = c->type->kind;
    if (c->nulls && c->nulls[i]) {
        memcpy(p, "\"null\"", 6);
        return p + 6;
    }
    if (sp__fmt_is_text_kind(k))
        return json_string(p, c->v.str[i].p, c->v.str[i].n);
    if (k == SP_T_ARRAY || k == SP_T_MAP || k == SP_T_TUPLE) {
        /* unusual: the quoted text form inside a JSON string ('"' in
         * nested strings is not escaped: such keys are not supported) */
        *p++ = '"';
        p = sp__fmt_quoted_text(p, c, i, 0);
        *p++ = '"';
        return p;
    }
    *p++ = '"';
    p = sp__fmt_scalar(p, c, i);
    *p++ = '"';
    return p;
}

static int tuple_named(const sp_type *t)
{
    if (!t->names || !t->nelems)
        return 0;
    for (size_t j = 0; j < t->nelems; j++)
        if (!t->names[j])
            return 0;
    return 1;
}

static char *json_value(char *p, const sp_column *c, size_t i)
{
    if (c->nulls && c->nulls[i]) {
        memcpy(p, "null", 4);
        return p + 4;
    }
    sp_kind k = c->type->kind;
    switch (k) {
    case SP_T_NOTHING:
        memcpy(p, "null", 4);
        return p + 4;
    case SP_T_BOOL:
    case SP_T_INT8:
    case SP_T_INT16:
    case SP_T_INT32:
    case SP_T_INT64:
    case SP_T_UINT8:
    case SP_T_UINT16:
    case SP_T_UINT32:
    case SP_T_UINT64:
        return sp__fmt_scalar(p, c, i);
    case SP_T_FLOAT32:
    case SP_T_FLOAT64:
        if (!isfinite(c->v.f64[i])) {
            memcpy(p, "null", 4);
            return p + 4;
        }
        return sp__fmt_scalar(p, c, i);
    case SP_T_INT128:
    case SP_T_INT256:
    case SP_T_UINT128:
    case SP_T_UINT256:
    case SP_T_DECIMAL:
        memcpy(p, c->v.str[i].p, c->v.str[i].n);
        return p + c->v.str[i].n;
    case SP_T_JSON:
        if (!c->v.str[i].n) {
            memcpy(p, "{}", 2);
            return p + 2;
        }
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
    case SP_T_ARRAY: {
        size_t from = (size_t)c->offsets[i], to = (size_t)c->offsets[i + 1];
        *p++ = '[';
        for (size_t j = from; j < to; j++) {
            if (j > from)
                *p++ = ',';
            p = json_value(p, &c->child[0], j);
        }
        *p++ = ']';
        return p;
    }
    case SP_T_MAP: {
        size_t from = (size_t)c->offsets[i], to = (size_t)c->offsets[i + 1];
        *p++ = '{';
        for (size_t j = from; j < to; j++) {
            if (j > from)
                *p++ = ',';
            p = json_key(p, &c->child[0], j);
            *p++ = ':';
            p = json_value(p, &c->child[1], j);
        }
        *p++ = '}';
        return p;
    }
    case SP_T_TUPLE: {
        int named = tuple_named(c->type) && c->type->nelems == c->nchild;
        *p++ = named ? '{' : '[';
        for (size_t j = 0; j < c->nchild; j++) {
            if (j)
                *p++ = ',';
            if (named) {
                const char *nm = c->type->names[j];
                p = json_string(p, nm, strlen(nm));
                *p++ = ':';
            }
            p = json_value(p, &c->child[j], i);
        }
        *p++ = named ? '}' : ']';
        return p;
    }
    default: /* String, FixedString, UUID, IPv4/6, Enum */
        return json_string(p, c->v.str[i].p, c->v.str[i].n);
    }
}

static int ndjson_header(sp_buf *out, const sp_schema *s, sp_error *err)
{
    (void)out;
    (void)s;
    (void)err;
    return 0;
}

/* the escaped "name": keys of a row, made once per call when they fit */
#define KEYS_MAX 4096
#define KEYS_COLS 256

static int ndjson_rows(sp_buf *out, const sp_schema *s, const sp_batch *b, size_t from,
                       size_t to, sp_error *err)
{
    const sp_column *cols = b->cols;
    size_t ncols = b->ncols;
    if (ncols > s->ncols)
        return sp_error_set(err, SP_EINVAL, 0, "ndjson: batch has %zu columns, schema %zu",
                            ncols, s->ncols);
    size_t names_bound = 3 + ncols;
    for (size_t j = 0; j < ncols; j++)
        names_bound += 6 * strlen(s->names[j] ? s->names[j] : "") + 3;
    char keys[KEYS_MAX];
    uint16_t key_end[KEYS_COLS + 1];
    int cached = names_bound <= KEYS_MAX && ncols <= KEYS_COLS;
    if (cached) {
        char *k = keys;
        key_end[0] = 0;
        for (size_t j = 0; j < ncols; j++) {
            const char *nm = s->names[j] ? s->names[j] : "";
            *k++ = j ? ',' : '{';
            k = json_string(k, nm, strlen(nm));
            *k++ = ':';
            key_end[j + 1] = (uint16_t)(k - keys);
        }
    }
    for (size_t i = from; i < to; i++) {
        size_t need = names_bound;
        for (size_t j = 0; j < ncols; j++)
            need += sp__fmt_bound(&cols[j], i, SP__FMT_JSON);
        int rc;
        char *p = sp__fmt_begin(out, need, err, &rc);
        if (!p)
            return sp_error_set(err, rc, 0,
                                "ndjson: row %zu does not fit in the output buffer", i);
        if (!ncols)
            *p++ = '{';
        for (size_t j = 0; j < ncols; j++) {
            if (cached) {
                size_t kn = (size_t)(key_end[j + 1] - key_end[j]);
                memcpy(p, keys + key_end[j], kn);
                p += kn;
            } else {
                const char *nm = s->names[j] ? s->names[j] : "";
                *p++ = j ? ',' : '{';
                p = json_string(p, nm, strlen(nm));
                *p++ = ':';
            }
            p = json_value(p, &cols[j], i);
        }
        *p++ = '}';
        *p++ = '\n';
        sp__fmt_end(out, p);
    }
    return 0;
}

static int ndjson_row(sp_buf *out, const sp_schema *s, const sp_batch *b, size_t i,
                      sp_error *err)
{
    return ndjson_rows(out, s, b, i, i + 1, err);
}

const sp_format sp_format_ndjson = {
    .name = "ndjson", .ext = "ndjson", .content_type = "application/x-ndjson",
    .header = ndjson_header, .row = ndjson_row, .rows = ndjson_rows,
};
