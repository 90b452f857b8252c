/* sp_ch_native: Native -> sp_batches (see sp_ch_native.h).
 *
 * Each result column is a tree of ncol (a node per nested type, and the
 * keys of a LowCardinality) holding the block's values, decoded a column at
 * a time with a loop per type; the block's batches are views into them.
 * Text made here (decimals, UUIDs, addresses) goes to the node's own
 * buffer, as do Enum names; strings point into the chunk. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_ch_colbuf.h"
#include "sp_ch_native.h"
#include "sp_ch_rbread.h"
#include "sp_ch_text.h"
#include "sp_error.h"
#include "sp_type.h"
#include "sp_banned.h"

#define BATCH_TEXT ((size_t)4 << 20) /* a batch goes out past this much text */
/* LowCardinality's flags besides the index width (bits 0-1): the block's
 * keys follow, they are a new dictionary (a shared one, bit 8, is refused) */
#define LC_KEYS ((uint64_t)1 << 9)
#define LC_UPDATE ((uint64_t)1 << 10)

enum op {
    OP_NOTHING, OP_BOOL, OP_U8, OP_U16, OP_U32, OP_U64, OP_I8, OP_I16, OP_I32, OP_I64, OP_F32,
    OP_F64, OP_STR, OP_FIXED, OP_UUID, OP_IPV4, OP_IPV6, OP_ENUM8, OP_ENUM16, OP_DEC, OP_UDEC,
    OP_ARRAY, OP_MAP, OP_TUPLE
};

/* per kind: op and width of a value in bytes (0: by parameter, variable) */
static const struct { unsigned char op, w; } KINDS[] = {
    [SP_T_NOTHING] = { OP_NOTHING, 1 }, [SP_T_BOOL] = { OP_BOOL, 1 }, [SP_T_INT8] = { OP_I8, 1 },
    [SP_T_INT16] = { OP_I16, 2 },      [SP_T_INT32] = { OP_I32, 4 }, [SP_T_INT64] = { OP_I64, 8 },
    [SP_T_INT128] = { OP_DEC, 16 },    [SP_T_INT256] = { OP_DEC, 32 }, [SP_T_UINT8] = { OP_U8, 1 },
    [SP_T_UINT16] = { OP_U16, 2 },     [SP_T_UINT32] = { OP_U32, 4 }, [SP_T_UINT64] = { OP_U64, 8 },
    [SP_T_UINT128] = { OP_UDEC, 16 },  [SP_T_UINT256] = { OP_UDEC, 32 },
    [SP_T_FLOAT32] = { OP_F32, 4 },    [SP_T_FLOAT64] = { OP_F64, 8 },
    [SP_T_DECIMAL] = { OP_DEC, 0 },    [SP_T_STRING] = { OP_STR, 0 },
    [SP_T_FIXEDSTRING] = { OP_FIXED, 0 }, [SP_T_UUID] = { OP_UUID, 16 },
    [SP_T_DATE] = { OP_U16, 2 },       [SP_T_DATE32] = { OP_I32, 4 },
    [SP_T_DATETIME] = { OP_U32, 4 },   [SP_T_DATETIME64] = { OP_I64, 8 },
    [SP_T_ARRAY] = { OP_ARRAY, 8 },    [SP_T_MAP] = { OP_MAP, 8 }, [SP_T_TUPLE] = { OP_TUPLE, 0 },
    [SP_T_JSON] = { OP_STR, 0 },       [SP_T_IPV4] = { OP_IPV4, 4 }, [SP_T_IPV6] = { OP_IPV6, 16 },
    [SP_T_ENUM8] = { OP_ENUM8, 1 },    [SP_T_ENUM16] = { OP_ENUM16, 2 },
};

/* values held as sp_str (else in 8 bytes; none for ARRAY, MAP, TUPLE) */
#define IS_TEXT(op) ((op) == OP_NOTHING || ((op) >= OP_STR && (op) <= OP_UDEC))

typedef struct ncol {
    const sp_type *t;
    unsigned char op, nullable, lc, json, anynull;
    unsigned w;        /* width of a value in bytes (0: variable) */
    int scale;         /* Decimal */
    size_t minw;       /* fewest bytes a value takes (>= 1) */
    sp_ch_colbuf b;    /* the block's values */
    uint64_t *tsum;    /* text before each value (a block with much text) */
    char *text;        /* the text made of the values: tmax a value, and slack */
    size_t tmax;
    struct ncol *child, *dict; /* LowCardinality: its keys, of type dtype */
    sp_column *ccols;
    size_t nchild;
    sp_type *dtype;    /* t without Nullable and LowCardinality */
    sp_ch_text_enum en;
} ncol;

struct sp_ch_nat {
    size_t batch_rows;
    sp_schema_fn on_schema;
    sp_batch_fn on_batch;
    void *ud;
    sp_schema *schema;
    sp_str *hdr; /* each column's name and type as the first block sent them */
    ncol *cols;
    sp_column *out;
    size_t held; /* text bytes in the block */
    unsigned long long total;
    int broken;
    const char *why; /* what a failed decode found */
};

static const char TRUNC[] = "the data ends inside the column", NOMEM[] = "out of memory",
                  BADKEY[] = "an index past the LowCardinality keys",
                  CUT[] = "result chunk: a block's header is cut short",
                  OTHER[] = "result chunk: a block's names and types are not the first block's";

#define FAIL(why_) return (r->why = (why_), NULL)

#define le sp_ch_colbuf_le
#define leb sp_ch_colbuf_leb

/* ------------------------------------------------------------ columns */

/* the same set as sp_ch_rbread's (the engine falls back to text alike),
 * on a little-endian host (as chDB runs): Native's numbers are copied as
 * they are */
int sp_ch_nat_supported(const sp_type *t)
{
    return __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && sp_ch_rb_supported(t);
}

static unsigned width(const sp_type *t)
{
    if (t->kind == SP_T_DECIMAL)
        return sp_ch_colbuf_decimal_width(t->precision);
    if (t->kind == SP_T_FIXEDSTRING)
        return t->precision > 0 ? (unsigned)t->precision : 0;
    return KINDS[t->kind].w;
}

/* the fewest bytes a value of t takes in Native (at least 1) */
static size_t min_width(const sp_type *t)
{
    size_t w = t->kind == SP_T_TUPLE ? 0 : width(t);
    if (t->low_cardinality)
        return 1; /* an index */
    for (size_t i = 0; t->kind == SP_T_TUPLE && i < t->nelems; i++)
        w += min_width(t->elems[i]);
    return t->nullable + (w ? w : 1);
}

static void col_release(ncol *c)
{
    for (size_t i = 0; i < c->nchild; i++)
        col_release(&c->child[i]);
    if (c->dict)
        col_release(c->dict);
    free(c->dict);
    sp_type_free(c->dtype);
    free(c->child);
    free(c->ccols);
    sp_ch_colbuf_release(&c->b);
    free(c->tsum);
    free(c->text);
    sp_ch_text_enum_release(&c->en);
}

static int col_init(ncol *c, const sp_type *t)
{
    *c = (ncol){ .t = t, .op = KINDS[t->kind].op, .nullable = t->nullable, .w = width(t),
                 .lc = t->low_cardinality, .json = t->kind == SP_T_JSON, .minw = min_width(t),
                 .scale = t->kind == SP_T_DECIMAL ? t->scale : 0 };
    if ((c->op == OP_ENUM8 || c->op == OP_ENUM16) && sp_ch_text_enum_init(&c->en, t->enum_body))
        return -1;
    static const unsigned char digits[33] = { [4] = 10, [8] = 19, [16] = 39, [32] = 78 };
    c->tmax = c->op == OP_UUID ? 36 : c->op == OP_IPV4 ? 15 : c->op == OP_IPV6 ? 45
            : c->op == OP_DEC || c->op == OP_UDEC /* sign, point, "0." under a big scale */
                ? (size_t)(c->scale > digits[c->w] ? c->scale : digits[c->w]) + 3 : 0;
    if (c->lc) {
        if (!(c->dtype = sp_type_clone(t)) || !(c->dict = calloc(1, sizeof *c->dict)))
            return -1;
        c->dtype->nullable = c->dtype->low_cardinality = 0;
        if (col_init(c->dict, c->dtype))
            return -1;
    }
    size_t nch = sp_ch_colbuf_nchild(t);
    if (nch && (!(c->child = calloc(nch, sizeof *c->child)) ||
                !(c->ccols = calloc(nch, sizeof *c->ccols))))
        return -1;
    c->nchild = nch;
    for (size_t i = 0; i < nch; i++)
        if (col_init(&c->child[i], sp_ch_colbuf_child(t, i)))
            return -1;
    return 0;
}

/* room for n values */
static int col_reserve(ncol *c, size_t n)
{
    if (c->b.cap >= n)
        return 0;
    size_t esz = c->op >= OP_ARRAY ? 0 : IS_TEXT(c->op) ? sizeof(sp_str) : 8;
    if (sp_ch_colbuf_reserve(&c->b, n, esz, c->nullable, c->op == OP_ARRAY || c->op == OP_MAP))
        return -1;
    /* room for the last call */
    SP_CH_COLBUF_GROW(c->text, c->tmax ? c->b.cap * c->tmax + SP_CH_TEXT_MAX : 0);
    free(c->tsum);
    c->tsum = NULL;
    return 0;
}

/* ------------------------------------------------------------ values */

/* dst[i] = the i-th T at p (little-endian, as the host) */
#define CONV(T, dst)                                            \
    for (size_t i = 0; i < n; i++) {                            \
        T x_;                                                   \
        memcpy(&x_, p + i * sizeof x_, sizeof x_);              \
        (dst)[i] = x_;                                          \
    }

/* each non-NULL value at v = p + i * w made into text at o by call */
#define TEXT_LOOP(call)                                                             \
    for (size_t i = 0; i < n; i++) {                                                \
        const uint8_t *v = p + i * w;                                               \
        size_t len_ = c->anynull && c->b.nulls[i] ? 0 : (call);                     \
        c->b.v.str[i] = (sp_str){ len_ ? o : "", len_ };                            \
        o += len_;                                                                  \
        held += len_;                                                               \
    }                                                                               \
    r->held += held

static const uint8_t *col_data(sp_ch_nat *r, ncol *c, const uint8_t *p, const uint8_t *e,
                               uint64_t n);

/* the n values of c, after its null map */
static const uint8_t *values(sp_ch_nat *r, ncol *c, const uint8_t *p, const uint8_t *e, size_t n)
{
    size_t w = c->w, held = 0;
    char *o = c->text;
    if (w && n > (size_t)(e - p) / w)
        FAIL(TRUNC);
    switch ((enum op)c->op) {
    case OP_NOTHING:
        for (size_t i = 0; i < n; i++)
            c->b.v.str[i] = (sp_str){ "", 0 };
        break;
    case OP_BOOL:
        for (size_t i = 0; i < n; i++)
            c->b.v.u64[i] = p[i] != 0;
        break;
    case OP_U8: CONV(uint8_t, c->b.v.u64); break;
    case OP_U16: CONV(uint16_t, c->b.v.u64); break;
    case OP_U32: CONV(uint32_t, c->b.v.u64); break;
    case OP_U64: CONV(uint64_t, c->b.v.u64); break;
    case OP_I8: CONV(int8_t, c->b.v.i64); break;
    case OP_I16: CONV(int16_t, c->b.v.i64); break;
    case OP_I32: CONV(int32_t, c->b.v.i64); break;
    case OP_I64: CONV(int64_t, c->b.v.i64); break;
    case OP_F32: CONV(float, c->b.v.f64); break;
    case OP_F64: CONV(double, c->b.v.f64); break;
    case OP_STR:
        for (size_t i = 0; i < n; i++) {
            uint64_t len;
            if (p < e && *p < 0x80)
                len = *p++;
            else if (!(p = leb(p, e, &len)))
                FAIL(TRUNC);
            if (len > (uint64_t)(e - p))
                FAIL(TRUNC);
            c->b.v.str[i] = (sp_str){ (const char *)p, (size_t)len };
            p += len;
            held += (size_t)len;
        }
        r->held += held;
        return p;
    case OP_FIXED:
        for (size_t i = 0; i < n; i++)
            c->b.v.str[i] = (sp_str){ (const char *)p + i * w, w };
        r->held += n * w;
        break;
    case OP_UUID: TEXT_LOOP(sp_ch_text_uuid(v, o)); break;
    case OP_IPV4: TEXT_LOOP(sp_ch_text_ipv4((uint32_t)le(v, 4), o)); break;
    case OP_IPV6: TEXT_LOOP(sp_ch_text_ipv6(v, o)); break;
    case OP_DEC:
    case OP_UDEC: TEXT_LOOP(sp_ch_text_decimal(v, w, c->op == OP_DEC, c->scale, o)); break;
    case OP_ENUM8:
    case OP_ENUM16:
        for (size_t i = 0; i < n; i++) {
            uint64_t x = c->anynull && c->b.nulls[i] ? 0 : le(p + i * w, w);
            const sp_str *s = sp_ch_text_enum_name(&c->en, w == 1 ? (int8_t)x : (int16_t)x);
            if (!(c->anynull && c->b.nulls[i]) && !s)
                FAIL("a number that is none of the Enum's values");
            c->b.v.str[i] = c->anynull && c->b.nulls[i] ? (sp_str){ "", 0 } : *s;
            held += c->b.v.str[i].n;
        }
        r->held += held;
        break;
    case OP_ARRAY:
    case OP_MAP: {
        uint64_t prev = 0, *off = c->b.offsets;
        int back = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t x = le(p + 8 * i, 8);
            back |= x < prev;
            off[i + 1] = prev = x;
        }
        p += 8 * n;
        size_t mw = c->child[0].minw + (c->op == OP_MAP ? c->child[1].minw : 0);
        if (back)
            FAIL("Array offsets that go backwards");
        if (prev > (uint64_t)(e - p) / mw)
            FAIL("an element count past the end of the data");
        for (size_t k = 0; k < c->nchild && p; k++)
            p = col_data(r, &c->child[k], p, e, prev); /* a Map's keys, then its values */
        return p;
    }
    case OP_TUPLE:
        for (size_t k = 0; k < c->nchild && p; k++)
            p = col_data(r, &c->child[k], p, e, n);
        return p;
    }
    return p + n * w;
}

/* LowCardinality: each row's value from the keys by its index of type T
 * (an index past them reads key 0 and sets bad); key 0 stands for NULL */
#define GATHER(T)                                                                   \
    for (size_t i = 0; i < n; i++) {                                                \
        T x_;                                                                       \
        memcpy(&x_, p + i * sizeof x_, sizeof x_);                                  \
        uint64_t k_ = x_ < nkeys ? x_ : (bad = 1, 0);                   \
        if (c->nullable)                                                            \
            c->b.nulls[i] = k_ == 0;                                                  \
        if (ds)                                                                     \
            c->b.v.str[i] = ds[k_], held += ds[k_].n;                                 \
        else                                                                        \
            c->b.v.u64[i] = du[k_];                                                   \
    }

static const uint8_t *lc_data(sp_ch_nat *r, ncol *c, const uint8_t *p, const uint8_t *e, size_t n)
{
    if (e - p < 16)
        FAIL(TRUNC);
    uint64_t flags = le(p, 8), nkeys = le(p + 8, 8), iw = (uint64_t)1 << (flags & 3);
    if ((flags & ~(3 | LC_KEYS | LC_UPDATE)) || !(flags & LC_KEYS))
        FAIL("a LowCardinality column of a shared dictionary or unknown flags");
    size_t held = r->held; /* the keys are not the column's text */
    if (!(p = col_data(r, c->dict, p + 16, e, nkeys)))
        return NULL;
    r->held = held;
    if (e - p < 8)
        FAIL(TRUNC);
    if (le(p, 8) != n)
        FAIL("a LowCardinality column whose row count is not its block's");
    if (n > (uint64_t)(e - (p += 8)) / iw)
        FAIL(TRUNC);
    if (!nkeys)
        FAIL(BADKEY);
    const sp_str *ds = IS_TEXT(c->op) ? c->dict->b.v.str : NULL;
    const uint64_t *du = c->dict->b.v.u64;
    int bad = 0;
    held = 0;
    switch (iw) {
    case 1: GATHER(uint8_t); break;
    case 2: GATHER(uint16_t); break;
    case 4: GATHER(uint32_t); break;
    default: GATHER(uint64_t); break;
    }
    if (bad)
        FAIL(BADKEY);
    r->held += held;
    c->anynull = c->nullable && memchr(c->b.nulls, 1, n);
    return p + n * iw;
}

/* the UInt64 each LowCardinality and JSON in c's tree writes first */
static const uint8_t *col_prefix(sp_ch_nat *r, ncol *c, const uint8_t *p, const uint8_t *e)
{
    if ((c->lc || c->json) && e - p < 8)
        FAIL(TRUNC);
    if ((c->lc || c->json) && le(p, 8) != 1)
        FAIL(c->lc ? "a LowCardinality column of an unknown version"
                   : "JSON not written as text (the query needs the setting "
                     "output_format_native_write_json_as_string=1)");
    p += c->lc || c->json ? 8 : 0;
    for (size_t k = 0; k < c->nchild && p; k++)
        p = col_prefix(r, &c->child[k], p, e);
    return p;
}

/* n values of c (no bytes at all when n is 0), a zero value under each NULL */
static const uint8_t *col_data(sp_ch_nat *r, ncol *c, const uint8_t *p, const uint8_t *e,
                               uint64_t n)
{
    c->b.n = 0;
    c->anynull = 0;
    if (n > (uint64_t)(e - p) / c->minw)
        FAIL(TRUNC);
    if (col_reserve(c, (size_t)n))
        FAIL(NOMEM);
    if (!(c->b.n = (size_t)n))
        return p;
    if (c->nullable && !c->lc) {
        uint8_t any = 0;
        for (size_t i = 0; i < n; i++)
            any |= c->b.nulls[i] = p[i] != 0;
        c->anynull = any;
        p += n;
    }
    p = c->lc ? lc_data(r, c, p, e, c->b.n) : values(r, c, p, e, c->b.n);
    for (size_t i = 0; p && c->anynull && c->op < OP_ARRAY && i < n; i++) {
        if (!c->b.nulls[i])
            continue;
        if (IS_TEXT(c->op)) {
            r->held -= c->b.v.str[i].n;
            c->b.v.str[i] = (sp_str){ "", 0 };
        } else if (c->op == OP_F32 || c->op == OP_F64) {
            c->b.v.f64[i] = 0;
        } else {
            c->b.v.u64[i] = 0;
        }
    }
    return p;
}

/* ------------------------------------------------------------ batches */

/* the text before each value, for a block with much of it */
static int col_sums(ncol *c)
{
    for (size_t k = 0; k < c->nchild; k++)
        if (col_sums(&c->child[k]))
            return -1;
    if (!IS_TEXT(c->op))
        return 0;
    SP_CH_COLBUF_GROW(c->tsum, (c->b.cap + 1) * sizeof *c->tsum);
    c->tsum[0] = 0;
    for (size_t i = 0; i < c->b.n; i++)
        c->tsum[i + 1] = c->tsum[i] + c->b.v.str[i].n;
    return 0;
}

/* the text of values lo..hi */
static uint64_t col_text(const ncol *c, size_t lo, size_t hi)
{
    uint64_t s = IS_TEXT(c->op) ? c->tsum[hi] - c->tsum[lo] : 0;
    for (size_t k = 0; k < c->nchild; k++)
        s += c->op == OP_TUPLE ? col_text(&c->child[k], lo, hi)
                               : col_text(&c->child[k], c->b.offsets[lo], c->b.offsets[hi]);
    return s;
}

/* values lo..hi of c as a column whose row 0 is value `base` */
static void col_view(ncol *c, sp_column *out, size_t lo, size_t hi, size_t base)
{
    *out = (sp_column){ .type = c->t, .nchild = c->nchild, .child = c->ccols };
    if (c->anynull && memchr(c->b.nulls + lo, 1, hi - lo))
        out->nulls = c->b.nulls + base;
    if (IS_TEXT(c->op))
        out->v.str = c->b.v.str + base;
    else if (c->op < OP_ARRAY)
        out->v.u64 = c->b.v.u64 + base;
    if (c->b.offsets)
        out->offsets = c->b.offsets + base;
    for (size_t k = 0; k < c->nchild; k++) {
        if (c->op == OP_TUPLE)
            col_view(&c->child[k], &c->ccols[k], lo, hi, base);
        else
            col_view(&c->child[k], &c->ccols[k], c->b.offsets[lo], c->b.offsets[hi], 0);
    }
}

/* the block's rows go out in batches */
static int emit(sp_ch_nat *r, size_t nrows, sp_error *err)
{
    size_t nc = r->schema->ncols;
    int big = r->held >= BATCH_TEXT, rc = 0;
    for (size_t i = 0; big && i < nc; i++)
        if (col_sums(&r->cols[i]))
            return sp_error_set(err, SP_ENOMEM, 0, "%s", NOMEM);
    for (size_t a = 0, b; a < nrows && !rc; a = b) {
        size_t most = nrows - a > r->batch_rows ? a + r->batch_rows : nrows;
        for (b = big ? a + 1 : most; b < most; b++) { /* to the row past BATCH_TEXT */
            uint64_t t = 0;
            for (size_t i = 0; i < nc; i++)
                t += col_text(&r->cols[i], a, b);
            if (t >= BATCH_TEXT)
                break;
        }
        for (size_t i = 0; i < nc; i++)
            col_view(&r->cols[i], &r->out[i], a, b, a);
        sp_batch bt = { b - a, nc, r->out };
        rc = r->on_batch ? r->on_batch(r->ud, &bt, err) : 0;
        r->total += b - a;
    }
    r->held = 0;
    return rc;
}

/* ------------------------------------------------------------ blocks */

/* column i of the first block: its name, type and reader */
static int column_from(sp_ch_nat *r, size_t i, sp_str nm, sp_str ty, sp_error *err)
{
    char *tn = strndup(ty.p, ty.n), *h = malloc(nm.n + ty.n + 1);
    const char *name = r->schema->names[i] = strndup(nm.p, nm.n);
    sp_error e2 = SP_ERROR_INIT;
    int rc = 0;
    if (h) {
        memcpy(h, nm.p, nm.n);
        memcpy(h + nm.n, ty.p, ty.n);
        r->hdr[2 * i] = (sp_str){ h, nm.n };
        r->hdr[2 * i + 1] = (sp_str){ h + nm.n, ty.n };
    }
    if (!tn || !name || !h || (rc = sp_type_parse(tn, &r->schema->types[i], &e2)) == SP_ENOMEM)
        rc = sp_error_set(err, SP_ENOMEM, 0, "%s", NOMEM);
    else if (rc)
        rc = sp_error_set(err, SP_EUNSUPPORTED, 0, "result column '%s': %s", name, e2.msg);
    else if (!sp_ch_nat_supported(r->schema->types[i]))
        rc = sp_error_set(err, SP_EUNSUPPORTED, 0,
                          "result column '%s': type '%s' is not read from Native%s", name, tn,
                          strstr(tn, "DateTime") ? " (only UTC results are read: wrap it in "
                                                   "toTimeZone(..., 'UTC'))" : "");
    else if (col_init(&r->cols[i], r->schema->types[i]))
        rc = sp_error_set(err, SP_ENOMEM, 0, "%s", NOMEM);
    free(tn);
    return rc;
}

/* a LEB128 length and its bytes */
static const uint8_t *lstr(const uint8_t *p, const uint8_t *e, sp_str *out)
{
    uint64_t len;
    if (!(p = leb(p, e, &len)) || len > (uint64_t)(e - p))
        return NULL;
    *out = (sp_str){ (const char *)p, (size_t)len };
    return p + len;
}

static int same(const sp_str *a, sp_str b)
{
    return a->n == b.n && !memcmp(a->p, b.p, b.n);
}

/* one block from *pp: the first gives the schema, later ones repeat it */
static int block(sp_ch_nat *r, const uint8_t **pp, const uint8_t *e, sp_error *err)
{
    const uint8_t *p = *pp;
    uint64_t nc, nrows;
    int first = !r->schema, rc = 0;
    if (!(p = leb(p, e, &nc)) || !(p = leb(p, e, &nrows)) || nc > (uint64_t)(e - p) / 2)
        return sp_error_set(err, SP_EDATA, 0, "%s", CUT);
    if (first && !nc)
        return sp_error_set(err, SP_EDATA, 0, "result chunk: a block without columns");
    if (first && (!(r->schema = sp_schema_new(nc)) || !(r->cols = calloc(nc, sizeof *r->cols)) ||
                  !(r->out = calloc(nc, sizeof *r->out)) ||
                  !(r->hdr = calloc(2 * nc, sizeof *r->hdr))))
        return sp_error_set(err, SP_ENOMEM, 0, "%s", NOMEM);
    if (nc != r->schema->ncols)
        return sp_error_set(err, SP_EDATA, 0, "%s", OTHER);
    for (size_t i = 0; i < nc; i++) {
        sp_str nm, ty;
        if (!(p = lstr(p, e, &nm)) || !(p = lstr(p, e, &ty)))
            return sp_error_set(err, SP_EDATA, 0, "%s", CUT);
        if (first && (rc = column_from(r, i, nm, ty, err)))
            return rc;
        if (!same(&r->hdr[2 * i], nm) || !same(&r->hdr[2 * i + 1], ty))
            return sp_error_set(err, SP_EDATA, 0, "%s", OTHER);
        if (nrows && (!(p = col_prefix(r, &r->cols[i], p, e)) ||
                      !(p = col_data(r, &r->cols[i], p, e, nrows))))
            return sp_error_set(err, r->why == NOMEM ? SP_ENOMEM : SP_EDATA, 0,
                                "result column '%s', rows %llu-%llu: %s", r->schema->names[i],
                                r->total + 1, r->total + nrows, r->why);
    }
    *pp = p;
    if (first && r->on_schema && (rc = r->on_schema(r->ud, r->schema, err)))
        return rc;
    return emit(r, (size_t)nrows, err);
}

/* ------------------------------------------------------------ API */

int sp_ch_nat_new(size_t batch_rows, sp_schema_fn on_schema, sp_batch_fn on_batch, void *ud,
                  sp_ch_nat **out, sp_error *err)
{
    sp_ch_nat *r = calloc(1, sizeof *r);
    if (!r)
        return sp_error_set(err, SP_ENOMEM, 0, "%s", NOMEM);
    *r = (sp_ch_nat){ .batch_rows = batch_rows ? batch_rows : 2048, .on_schema = on_schema,
                      .on_batch = on_batch, .ud = ud };
    *out = r;
    return 0;
}

void sp_ch_nat_free(sp_ch_nat *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->schema && i < r->schema->ncols; i++) {
        if (r->cols)
            col_release(&r->cols[i]);
        if (r->hdr)
            free((char *)r->hdr[2 * i].p);
    }
    free(r->cols);
    free(r->out);
    free(r->hdr);
    sp_schema_free(r->schema);
    free(r);
}

unsigned long long sp_ch_nat_rows(const sp_ch_nat *r)
{
    return r->total;
}

/* after a failure: one line, the reader spent */
static int failed(sp_ch_nat *r, int rc, sp_error *err)
{
    r->broken = 1;
    return sp_ch_colbuf_failed(rc, err);
}

int sp_ch_nat_chunk(sp_ch_nat *r, const char *p, size_t n, sp_error *err)
{
    if (r->broken)
        return sp_error_set(err, SP_EINVAL, 0, "result reader used after an error");
    const uint8_t *q = (const uint8_t *)p, *e = q + n;
    int rc = 0;
    while (!rc && q < e)
        rc = block(r, &q, e, err);
    return rc ? failed(r, rc, err) : 0;
}

int sp_ch_nat_finish(sp_ch_nat *r, sp_error *err)
{
    if (r->broken)
        return sp_error_set(err, SP_EINVAL, 0, "result reader used after an error");
    return 0;
}
