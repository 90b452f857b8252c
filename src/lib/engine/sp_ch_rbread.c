/* sp_ch_rbread: RowBinaryWithNamesAndTypes -> sp_batches (see sp_ch_rbread.h).
 *
 * Each result column is a tree of rcol (one node per nested type) holding
 * the open batch's values.  A value is one switch on the node's op, with
 * the commonest cases inline (dec); there is always room: top-level nodes
 * have batch_rows slots, and an Array/Map reserves its elements once their
 * count has been checked against the bytes left.  Text made here (decimals,
 * UUIDs, addresses) goes to an arena of blocks that never move; Enum names
 * are the node's own; strings point into the chunk, and are copied to the
 * arena only when the chunk ends with a batch still open (carry). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_ch_colbuf.h"
#include "sp_ch_rbread.h"
#include "sp_ch_text.h"
#include "sp_error.h"
#include "sp_type.h"
#include "sp_banned.h"

#define BATCH_TEXT ((size_t)4 << 20) /* a batch goes out past this much text */
#define BLOCK ((size_t)1 << 20)      /* arena block */

enum op {
    OP_NOTHING, OP_BOOL, OP_U8, OP_U16, OP_U32, OP_U64, OP_DATE, OP_DATETIME, OP_I8, OP_I16,
    OP_I32, OP_I64, OP_F32, OP_F64, OP_STR, OP_FIXED, OP_UUID, OP_IPV4, OP_IPV6, OP_ENUM8,
    OP_ENUM16, OP_DEC, OP_UDEC, OP_ARRAY, OP_MAP, OP_TUPLE
};

/* per kind: op and fixed width in bytes (0: by parameter, or variable) */
static const struct { unsigned char op, w; } KINDS[] = {
    [SP_T_NOTHING] = { OP_NOTHING, 0 }, [SP_T_BOOL] = { OP_BOOL, 1 }, [SP_T_INT8] = { OP_I8, 1 },
    [SP_T_INT16] = { OP_I16, 2 },      [SP_T_INT32] = { OP_I32, 4 }, [SP_T_INT64] = { OP_I64, 8 },
    [SP_T_INT128] = { OP_DEC, 16 },    [SP_T_INT256] = { OP_DEC, 32 }, [SP_T_UINT8] = { OP_U8, 1 },
    [SP_T_UINT16] = { OP_U16, 2 },     [SP_T_UINT32] = { OP_U32, 4 }, [SP_T_UINT64] = { OP_U64, 8 },
    [SP_T_UINT128] = { OP_UDEC, 16 },  [SP_T_UINT256] = { OP_UDEC, 32 },
    [SP_T_FLOAT32] = { OP_F32, 4 },    [SP_T_FLOAT64] = { OP_F64, 8 },
    [SP_T_DECIMAL] = { OP_DEC, 0 },    [SP_T_STRING] = { OP_STR, 0 },
    [SP_T_FIXEDSTRING] = { OP_FIXED, 0 }, [SP_T_UUID] = { OP_UUID, 16 },
    [SP_T_DATE] = { OP_DATE, 2 },      [SP_T_DATE32] = { OP_I32, 4 },
    [SP_T_DATETIME] = { OP_DATETIME, 4 }, [SP_T_DATETIME64] = { OP_I64, 8 },
    [SP_T_ARRAY] = { OP_ARRAY, 0 },    [SP_T_MAP] = { OP_MAP, 0 }, [SP_T_TUPLE] = { OP_TUPLE, 0 },
    [SP_T_JSON] = { OP_STR, 0 },       [SP_T_IPV4] = { OP_IPV4, 4 }, [SP_T_IPV6] = { OP_IPV6, 16 },
    [SP_T_ENUM8] = { OP_ENUM8, 1 },    [SP_T_ENUM16] = { OP_ENUM16, 2 },
};

typedef struct rcol {
    const sp_type *t;
    unsigned char op, nullable, anynull;
    unsigned w, sh; /* fixed width in bytes; 64 - 8 w for integers */
    int scale;      /* Decimal */
    size_t minw;    /* fewest bytes of a value */
    sp_ch_colbuf b; /* the batch's values */
    size_t mark;    /* the first value read from the current chunk */
    struct rcol *child;
    sp_column *ccols;
    size_t nchild;
    sp_ch_text_enum en; /* Enum */
} rcol;

typedef struct blk { char *p; size_t len, cap; } blk;

struct sp_ch_rb {
    size_t batch_rows;
    sp_schema_fn on_schema;
    sp_batch_fn on_batch;
    void *ud;
    sp_schema *schema;
    uint8_t *hdr; /* the first chunk's header, as sent */
    size_t hlen;
    rcol *cols;
    sp_column *out;
    size_t nrows, held; /* rows and text bytes in the open batch */
    unsigned long long total;
    int broken;
    const char *why; /* what a failed decode found */
    blk *blks;       /* the arena */
    size_t nblk, cur;
};

/* ------------------------------------------------------------ arena */

/* n bytes of text that stay put until the batch goes out; NULL on ENOMEM */
static char *ar_take(sp_ch_rb *r, size_t n)
{
    blk *b = r->nblk ? &r->blks[r->cur] : NULL;
    if (b && b->cap - b->len >= n)
        return (b->len += n, b->p + b->len - n);
    size_t next = b ? r->cur + 1 : 0; /* blocks past cur are empty */
    if (next == r->nblk) {
        if (!(b = realloc(r->blks, (r->nblk + 1) * sizeof *b)))
            return NULL;
        (r->blks = b)[r->nblk++] = (blk){ NULL, 0, 0 };
    }
    b = &r->blks[r->cur = next];
    if (b->cap < n) {
        char *p = malloc(n > BLOCK ? n : BLOCK);
        if (!p)
            return NULL;
        free(b->p);
        *b = (blk){ p, 0, n > BLOCK ? n : BLOCK };
    }
    b->len = n;
    return b->p;
}

/* ------------------------------------------------------------ types */

/* bytes of a value of t: its fixed width, or (fixed == 0) the fewest */
static size_t width(const sp_type *t, int fixed)
{
    if (t->nullable && !fixed)
        return 1;
    if (t->kind == SP_T_DECIMAL)
        return sp_ch_colbuf_decimal_width(t->precision);
    if (t->kind == SP_T_FIXEDSTRING)
        return (size_t)t->precision;
    size_t s = KINDS[t->kind].op == OP_STR || t->kind == SP_T_ARRAY || t->kind == SP_T_MAP;
    for (size_t i = 0; t->kind == SP_T_TUPLE && i < t->nelems; i++)
        s += width(t->elems[i], 0);
    return s + KINDS[t->kind].w;
}

static int known(const sp_type *t)
{
    if (!t || (unsigned)t->kind > SP_T_ENUM16 ||
        ((t->kind == SP_T_DATETIME || t->kind == SP_T_DATETIME64) && t->tz && !sp_type_tz_is_utc(t->tz)) ||
        ((t->kind == SP_T_ENUM8 || t->kind == SP_T_ENUM16) && !t->enum_body) ||
        (t->kind == SP_T_TUPLE && !t->nelems) ||
        (t->raw && !strcmp(t->raw, "BFloat16"))) /* 2 bytes, read as Float32's text */
        return 0;
    if (t->kind == SP_T_ARRAY || t->kind == SP_T_MAP)
        return known(t->elem) && (t->kind == SP_T_ARRAY || known(t->key));
    for (size_t i = 0; t->kind == SP_T_TUPLE && i < t->nelems; i++)
        if (!known(t->elems[i]))
            return 0;
    return 1;
}

int sp_ch_rb_supported(const sp_type *t)
{
    return known(t) && width(t, 0) > 0;
}

/* ------------------------------------------------------------ columns */

static void col_release(rcol *c)
{
    for (size_t i = 0; i < c->nchild; i++)
        col_release(&c->child[i]);
    free(c->child);
    free(c->ccols);
    sp_ch_colbuf_release(&c->b);
    sp_ch_text_enum_release(&c->en);
}

static int col_init(rcol *c, const sp_type *t)
{
    *c = (rcol){ .t = t, .op = KINDS[t->kind].op, .nullable = t->nullable };
    c->minw = width(t, 0);
    c->w = c->op == OP_STR ? 0 : (unsigned)width(t, 1);
    c->sh = c->w && c->w <= 8 ? 64 - 8 * c->w : 0;
    c->scale = t->kind == SP_T_DECIMAL ? t->scale : 0;
    if ((c->op == OP_ENUM8 || c->op == OP_ENUM16) && sp_ch_text_enum_init(&c->en, t->enum_body))
        return -1;
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

/* room for k more values (a Tuple's in its elements) */
static int col_reserve(rcol *c, size_t k)
{
    for (size_t i = 0; c->op == OP_TUPLE && i < c->nchild; i++)
        if (col_reserve(&c->child[i], k))
            return -1;
    size_t esz = c->op == OP_TUPLE ? 0
               : (c->op >= OP_STR && c->op <= OP_UDEC) || c->op == OP_NOTHING ? sizeof(sp_str)
                                                                                : 8;
    return sp_ch_colbuf_reserve(&c->b, c->b.n + k, esz, c->nullable,
                                c->op == OP_ARRAY || c->op == OP_MAP);
}

static void col_reset(rcol *c)
{
    c->b.n = c->mark = c->anynull = 0;
    for (size_t i = 0; i < c->nchild; i++)
        col_reset(&c->child[i]);
}

static void col_view(rcol *c, sp_column *out)
{
    *out = (sp_column){ .type = c->t, .nulls = c->anynull ? c->b.nulls : NULL,
                        .offsets = c->b.offsets, .child = c->nchild ? c->ccols : NULL,
                        .nchild = c->nchild };
    out->v.str = c->b.v.str;
    for (size_t k = 0; k < c->nchild; k++)
        col_view(&c->child[k], &c->ccols[k]);
}

/* the chunk ends with a batch open: its strings from the chunk to the arena */
static int carry(sp_ch_rb *r, rcol *c)
{
    for (size_t i = c->mark; (c->op == OP_STR || c->op == OP_FIXED) && i < c->b.n; i++) {
        sp_str *s = &c->b.v.str[i];
        char *d = s->n ? ar_take(r, s->n) : NULL;
        if (s->n && !d)
            return -1;
        s->p = s->n ? memcpy(d, s->p, s->n) : "";
    }
    c->mark = c->b.n;
    for (size_t i = 0; i < c->nchild; i++)
        if (carry(r, &c->child[i]))
            return -1;
    return 0;
}

/* ------------------------------------------------------------ values */

#define le sp_ch_colbuf_le

/* an integer of c->w <= 8 bytes read as 8 (the top bytes shifted out) */
static inline uint64_t ext(const rcol *c, uint64_t v)
{
    v <<= c->sh;
    return c->op >= OP_I8 ? (uint64_t)((int64_t)v >> c->sh) : v >> c->sh;
}

static inline double f32(uint64_t bits)
{
    uint32_t u = (uint32_t)bits;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline double f64(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, 8);
    return d;
}

static const char TRUNC[] = "the data ends inside the value", NOMEM[] = "out of memory";

#define FAIL(why_) return (r->why = (why_), NULL)
#define NEED(k) do { if ((size_t)(e - p) < (k)) FAIL(TRUNC); } while (0)

#define leb sp_ch_colbuf_leb

/* text made from the value, into the arena */
#define TEXT(maxlen, call)                    \
    do {                                      \
        char *o_ = ar_take(r, (maxlen));      \
        if (!o_)                              \
            FAIL(NOMEM);                      \
        size_t n_ = (call);                   \
        r->blks[r->cur].len -= (maxlen) - n_; \
        c->b.v.str[i] = (sp_str){ o_, n_ };     \
        r->held += n_;                        \
    } while (0)

static inline const uint8_t *dec(sp_ch_rb *r, rcol *c, const uint8_t *p, const uint8_t *e);

/* one value of c from p: the end of it, or NULL (r->why says why) */
static const uint8_t *dec_any(sp_ch_rb *r, rcol *c, const uint8_t *p, const uint8_t *e)
{
    size_t i = c->b.n++;
    if (c->nullable) {
        NEED(1);
        if ((c->b.nulls[i] = *p++ != 0)) { /* a zero value under the NULL */
            c->anynull = 1;
            if (c->op == OP_ARRAY || c->op == OP_MAP)
                c->b.offsets[i + 1] = c->b.offsets[i];
            else if (c->op >= OP_STR || c->op == OP_NOTHING)
                c->b.v.str[i] = (sp_str){ "", 0 };
            else
                c->b.v.u64[i] = 0;
            return p;
        }
    }
    switch ((enum op)c->op) {
    case OP_NOTHING: c->b.v.str[i] = (sp_str){ "", 0 }; return p;
    case OP_BOOL: NEED(1); c->b.v.u64[i] = p[0] != 0; return p + 1;
    case OP_U8: case OP_U16: case OP_U32: case OP_U64: case OP_DATE: case OP_DATETIME:
    case OP_I8: case OP_I16: case OP_I32: case OP_I64:
        NEED(c->w);
        c->b.v.u64[i] = ext(c, le(p, c->w));
        return p + c->w;
    case OP_F32: NEED(4); c->b.v.f64[i] = f32(le(p, 4)); return p + 4;
    case OP_F64: NEED(8); c->b.v.f64[i] = f64(le(p, 8)); return p + 8;
    case OP_STR: {
        uint64_t len;
        const uint8_t *q = leb(p, e, &len);
        if (!q || len > (uint64_t)(e - q))
            FAIL(TRUNC);
        c->b.v.str[i] = (sp_str){ (const char *)q, (size_t)len };
        r->held += (size_t)len;
        return q + len;
    }
    case OP_FIXED:
        NEED(c->w);
        c->b.v.str[i] = (sp_str){ (const char *)p, c->w };
        r->held += c->w;
        return p + c->w;
    case OP_UUID: NEED(16); TEXT(36, sp_ch_text_uuid(p, o_)); return p + 16;
    case OP_IPV4: NEED(4); TEXT(16, sp_ch_text_ipv4((uint32_t)le(p, 4), o_)); return p + 4;
    case OP_IPV6: NEED(16); TEXT(48, sp_ch_text_ipv6(p, o_)); return p + 16;
    case OP_ENUM8:
    case OP_ENUM16: {
        NEED(c->w);
        int v = c->w == 1 ? (int8_t)p[0] : (int16_t)le(p, 2);
        const sp_str *s = sp_ch_text_enum_name(&c->en, v);
        if (!s)
            FAIL("a number that is none of the Enum's values");
        c->b.v.str[i] = *s;
        r->held += s->n;
        return p + c->w;
    }
    case OP_DEC:
    case OP_UDEC:
        NEED(c->w);
        TEXT(SP_CH_TEXT_MAX, sp_ch_text_decimal(p, c->w, c->op == OP_DEC, c->scale, o_));
        return p + c->w;
    case OP_ARRAY:
    case OP_MAP: {
        uint64_t k, need;
        if (!(p = leb(p, e, &k)))
            FAIL(TRUNC);
        size_t mw = c->child[0].minw + (c->op == OP_MAP ? c->child[1].minw : 0);
        if (k && (!mw || __builtin_mul_overflow(k, mw, &need) || need > (uint64_t)(e - p)))
            FAIL("an element count past the end of the data");
        for (size_t j = 0; j < c->nchild; j++)
            if (col_reserve(&c->child[j], (size_t)k))
                FAIL(NOMEM);
        for (uint64_t j = 0; j < k && p; j++) {
            p = dec(r, &c->child[0], p, e);
            if (p && c->op == OP_MAP)
                p = dec(r, &c->child[1], p, e);
        }
        c->b.offsets[i + 1] = c->child[0].b.n;
        return p;
    }
    case OP_TUPLE:
        for (size_t j = 0; j < c->nchild && p; j++)
            p = dec(r, &c->child[j], p, e);
        return p;
    }
    FAIL("an unknown type");
}

/* dec_any, with the commonest values inline: a non-NULL integer, date or
 * time (one 8-byte load, the bytes past its width shifted out) or a String
 * shorter than 128 bytes */
static inline const uint8_t *dec(sp_ch_rb *r, rcol *c, const uint8_t *p, const uint8_t *e)
{
    size_t i = c->b.n, left = (size_t)(e - p);
    if (left <= c->nullable || (c->nullable && *p))
        return dec_any(r, c, p, e);
    const uint8_t *q = p + c->nullable;
    left -= c->nullable;
    if (c->op >= OP_U8 && c->op <= OP_I64 && left >= 8) {
        c->b.v.u64[i] = ext(c, le(q, 8));
        q += c->w;
    } else if (c->op == OP_STR && *q < 0x80 && *q < left) {
        c->b.v.str[i] = (sp_str){ (const char *)q + 1, *q };
        r->held += *q;
        q += 1 + *q;
    } else {
        return dec_any(r, c, p, e);
    }
    if (c->nullable)
        c->b.nulls[i] = 0;
    c->b.n = i + 1;
    return q;
}

/* ------------------------------------------------------------ batches */

static int emit(sp_ch_rb *r, sp_error *err)
{
    size_t nc = r->schema->ncols;
    for (size_t i = 0; i < nc; i++)
        col_view(&r->cols[i], &r->out[i]);
    sp_batch b = { r->nrows, nc, r->out };
    int rc = r->on_batch ? r->on_batch(r->ud, &b, err) : 0;
    r->total += r->nrows;
    r->nrows = r->held = r->cur = 0;
    for (size_t i = 0; i < nc; i++)
        col_reset(&r->cols[i]);
    for (size_t i = 0; i < r->nblk; i++)
        r->blks[i].len = 0;
    return rc;
}

static int rows(sp_ch_rb *r, const uint8_t *p, const uint8_t *e, sp_error *err)
{
    size_t nc = r->schema->ncols;
    rcol *cols = r->cols;
    while (p < e) {
        for (size_t k = 0; k < nc; k++)
            if (!(p = dec(r, &cols[k], p, e)))
                return sp_error_set(err, r->why == NOMEM ? SP_ENOMEM : SP_EDATA, 0,
                                    "result column '%s', row %llu: %s", r->schema->names[k],
                                    r->total + r->nrows + 1, r->why);
        int rc = ++r->nrows >= r->batch_rows || r->held >= BATCH_TEXT ? emit(r, err) : 0;
        if (rc)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------ header */

static int schema_from(sp_ch_rb *r, const sp_str *f, size_t nc, sp_error *err)
{
    if (!(r->schema = sp_schema_new(nc)) || !(r->cols = calloc(nc + 1, sizeof *r->cols)) ||
        !(r->out = calloc(nc + 1, sizeof *r->out)))
        return sp_error_set(err, SP_ENOMEM, 0, "%s", NOMEM);
    int rc = 0;
    for (size_t i = 0; i < nc && !rc; i++) {
        char *tn = strndup(f[nc + i].p, f[nc + i].n);
        const char *nm = r->schema->names[i] = strndup(f[i].p, f[i].n);
        sp_error e2 = SP_ERROR_INIT;
        if (!tn || !nm || (rc = sp_type_parse(tn, &r->schema->types[i], &e2)) == SP_ENOMEM)
            rc = sp_error_set(err, SP_ENOMEM, 0, "%s", NOMEM);
        else if (rc)
            rc = sp_error_set(err, SP_EUNSUPPORTED, 0, "result column '%s': %s", nm, e2.msg);
        else if (!sp_ch_rb_supported(r->schema->types[i]))
            rc = sp_error_set(err, SP_EUNSUPPORTED, 0,
                              "result column '%s': type '%s' is not read from RowBinary%s", nm,
                              tn, strstr(tn, "DateTime") ? " (only UTC results are read: wrap "
                                                           "it in toTimeZone(..., 'UTC'))" : "");
        else if (col_init(&r->cols[i], r->schema->types[i]) ||
                 col_reserve(&r->cols[i], r->batch_rows))
            rc = sp_error_set(err, SP_ENOMEM, 0, "%s", NOMEM);
        free(tn);
    }
    return rc ? rc : r->on_schema ? r->on_schema(r->ud, r->schema, err) : 0;
}

/* the first chunk's header gives the schema; every later one repeats it,
 * byte for byte */
static int header(sp_ch_rb *r, const uint8_t **pp, const uint8_t *e, sp_error *err)
{
    static const char CUT[] = "result chunk: the header is cut short";
    const uint8_t *p = *pp;
    if (r->hdr) {
        if ((size_t)(e - p) < r->hlen || memcmp(p, r->hdr, r->hlen))
            return sp_error_set(err, SP_EDATA, 0, "result chunk: its names and types are not "
                                                  "the first chunk's");
        *pp = p + r->hlen;
        return 0;
    }
    uint64_t k, len;
    sp_str *f; /* the names, then the types, pointing into the chunk */
    if (!(p = leb(p, e, &k)) || k > (uint64_t)(e - p) / 2)
        return sp_error_set(err, SP_EDATA, 0, "%s", CUT);
    if (!(f = calloc(2 * k + 1, sizeof *f)))
        return sp_error_set(err, SP_ENOMEM, 0, "%s", NOMEM);
    int rc = 0;
    for (size_t i = 0; i < 2 * k && !rc; i++) {
        if (!(p = leb(p, e, &len)) || len > (uint64_t)(e - p))
            rc = sp_error_set(err, SP_EDATA, 0, "%s", CUT);
        else {
            f[i] = (sp_str){ (const char *)p, (size_t)len };
            p += len;
        }
    }
    if (!rc && !(r->hdr = malloc(r->hlen = (size_t)(p - *pp))))
        rc = sp_error_set(err, SP_ENOMEM, 0, "%s", NOMEM);
    if (!rc) {
        memcpy(r->hdr, *pp, r->hlen);
        *pp = p;
        rc = schema_from(r, f, (size_t)k, err);
    }
    free(f);
    return rc;
}

/* ------------------------------------------------------------ API */

int sp_ch_rb_new(size_t batch_rows, sp_schema_fn on_schema, sp_batch_fn on_batch, void *ud,
                 sp_ch_rb **out, sp_error *err)
{
    sp_ch_rb *r = calloc(1, sizeof *r);
    if (!r)
        return sp_error_set(err, SP_ENOMEM, 0, "%s", NOMEM);
    *r = (sp_ch_rb){ .batch_rows = batch_rows ? batch_rows : 2048, .on_schema = on_schema,
                     .on_batch = on_batch, .ud = ud };
    *out = r;
    return 0;
}

void sp_ch_rb_free(sp_ch_rb *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->cols && i < r->schema->ncols; i++)
        col_release(&r->cols[i]);
    free(r->cols);
    free(r->out);
    sp_schema_free(r->schema);
    free(r->hdr);
    for (size_t i = 0; i < r->nblk; i++)
        free(r->blks[i].p);
    free(r->blks);
    free(r);
}

unsigned long long sp_ch_rb_rows(const sp_ch_rb *r)
{
    return r->total;
}

/* after a failure: one line, the reader spent */
static int failed(sp_ch_rb *r, int rc, sp_error *err)
{
    r->broken = 1;
    return sp_ch_colbuf_failed(rc, err);
}

int sp_ch_rb_chunk(sp_ch_rb *r, const char *p, size_t n, sp_error *err)
{
    if (r->broken)
        return sp_error_set(err, SP_EINVAL, 0, "result reader used after an error");
    if (!n)
        return 0;
    const uint8_t *q = (const uint8_t *)p, *e = q + n;
    int rc = header(r, &q, e, err);
    if (!rc)
        rc = rows(r, q, e, err);
    for (size_t i = 0; !rc && r->nrows && i < r->schema->ncols; i++)
        if (carry(r, &r->cols[i]))
            rc = sp_error_set(err, SP_ENOMEM, 0, "%s", NOMEM);
    return rc ? failed(r, rc, err) : 0;
}

int sp_ch_rb_finish(sp_ch_rb *r, sp_error *err)
{
    if (r->broken)
        return sp_error_set(err, SP_EINVAL, 0, "result reader used after an error");
    int rc = r->nrows ? emit(r, err) : 0;
    return rc ? failed(r, rc, err) : 0;
}
