/* sp_format_parquet: a streaming Apache Parquet writer (see sp_format.h and
 * docs/formats.md).
 *
 * Layout: "PAR1" (the header), then row groups, then the footer
 * (FileMetaData in Thrift compact protocol, its length as 4 bytes LE,
 * "PAR1").  Types map as ClickHouse 26.7's own Parquet output maps them
 * (checked with ParquetMetadata on files ClickHouse wrote): see the table
 * in docs/formats.md.  Nullable is an OPTIONAL field, Array a 3-level LIST
 * (list / element), Map a MAP (key_value / key / value), Tuple a group
 * (elements named "1", "2", … when unnamed).
 *
 * A writer shreds the rows into one leaf per primitive column (Dremel
 * definition and repetition levels), each leaf filling a data page (v1) of
 * PAGE_SIZE bytes that is compressed (snappy, gzip, zstd, lz4 = LZ4_RAW or none) as soon
 * as it is full; a row group is closed after row_group_rows rows or
 * row_group_bytes buffered bytes, and only its pages stay in memory until
 * then.  Pages and row groups end at row boundaries.  Values are PLAIN;
 * LowCardinality leaves are dictionary-encoded (RLE_DICTIONARY, falling
 * back to PLAIN for the rest of the row group when the dictionary passes
 * DICT_MAX bytes).  Levels use the RLE / bit-packed hybrid (sp_rle). */
#include <arpa/inet.h>
#include <libdeflate.h>
#include <lz4.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "sp_error.h"
#include "sp_format.h"
#include "sp_rle.h"
#include "sp_thrift.h"
#include "sp_banned.h"

#define PAGE_SIZE ((size_t)1 << 20)
#define DICT_MAX ((size_t)1 << 20)
#define ROW_GROUP_ROWS_DEFAULT 1000000u
#define ROW_GROUP_BYTES_DEFAULT ((size_t)64 << 20)
#define LEAF_BUF_MAX ((size_t)1 << 30)
#define MAX_DEPTH 64   /* nesting levels (levels are stored in a byte) */
#define MAX_LEAVES 100000

/* parquet.thrift enums */
enum { T_BOOLEAN = 0, T_INT32 = 1, T_INT64 = 2, T_FLOAT = 4, T_DOUBLE = 5, T_BYTE_ARRAY = 6,
       T_FLBA = 7 };
enum { R_REQUIRED = 0, R_OPTIONAL = 1, R_REPEATED = 2 };
enum { E_PLAIN = 0, E_RLE = 3, E_RLE_DICTIONARY = 8 };
enum { C_UNCOMPRESSED = 0, C_SNAPPY = 1, C_GZIP = 2, C_ZSTD = 6, C_LZ4_RAW = 7 };
enum { CT_NONE = -1, CT_UTF8 = 0, CT_MAP = 1, CT_MAP_KEY_VALUE = 2, CT_LIST = 3, CT_ENUM = 4, CT_DECIMAL = 5,
       CT_DATE = 6, CT_TIMESTAMP_MILLIS = 9, CT_TIMESTAMP_MICROS = 10, CT_UINT_8 = 11,
       CT_UINT_16 = 12, CT_UINT_32 = 13, CT_UINT_64 = 14, CT_INT_8 = 15, CT_INT_16 = 16,
       CT_JSON = 19 };
/* LogicalType union members */
enum { LT_NONE = 0, LT_STRING = 1, LT_MAP = 2, LT_LIST = 3, LT_ENUM = 4, LT_DECIMAL = 5,
       LT_DATE = 6, LT_TIMESTAMP = 8, LT_INTEGER = 10, LT_JSON = 12, LT_UUID = 14 };

/* how a leaf turns a batch value into its PLAIN bytes */
typedef enum conv {
    CV_BOOL,   /* v.u64 -> one byte (bit-packed at the page) */
    CV_I32,    /* v.i64 -> int32 */
    CV_U32,    /* v.u64 -> int32 bits */
    CV_I64,    /* v.i64 -> int64 */
    CV_U64,    /* v.u64 -> int64 bits */
    CV_MUL64,  /* v.i64 * mul -> int64 (DateTime, DateTime64 to the unit) */
    CV_F32,    /* v.f64 -> float */
    CV_F64,    /* v.f64 -> double */
    CV_STR,    /* v.str -> BYTE_ARRAY */
    CV_FIXED,  /* v.str -> FLBA(len), zero-padded */
    CV_UUID,   /* v.str text -> 16 bytes, big-endian (RFC 4122 order) */
    CV_IPV4,   /* v.str dotted text -> uint32 as int32 */
    CV_IPV6,   /* v.str text -> 16 bytes, network order */
    CV_DEC,    /* v.str decimal text -> unscaled, FLBA(len) big-endian */
    CV_BIGINT  /* v.str integer text -> FLBA(len) little-endian (ClickHouse's bytes) */
} conv;

typedef enum nkind { N_LEAF, N_GROUP, N_LIST, N_MAP } nkind;

typedef struct pq_node {
    nkind kind;
    char *name;
    int repetition;
    int def, rep; /* max levels of this node */
    struct pq_node *child;
    size_t nchild;
    size_t first_leaf, nleaves;
    /* schema annotations */
    int phys, type_length, converted, logical;
    int int_bits, int_signed; /* LT_INTEGER */
    int ts_unit;              /* LT_TIMESTAMP: 1 millis, 2 micros, 3 nanos */
    int precision, scale;     /* LT_DECIMAL */
    /* leaf conversion */
    conv cv;
    int64_t mul;
    int dict; /* LowCardinality: dictionary-encoded */
} pq_node;

/* per row group, per leaf: what the footer says of the column chunk */
typedef struct chunk_meta {
    int64_t num_values, uncomp, comp, data_off, dict_off; /* dict_off < 0: none */
    uint8_t has_levels, has_plain, has_dict;
} chunk_meta;

typedef struct rg_meta {
    int64_t rows, bytes, comp, off;
    chunk_meta *cols;
} rg_meta;

typedef struct pq_leaf {
    const pq_node *node;
    char **path; /* names from the root's child down */
    size_t npath;
    int dbw, rbw; /* level bit widths */
    /* the page being filled */
    sp_buf vals;   /* PLAIN values (BOOLEAN: a byte each) */
    sp_buf defs;   /* one byte per level */
    sp_buf reps;
    uint32_t *idx; /* dictionary indices */
    size_t nidx, capidx;
    size_t page_n; /* levels in the page */
    int page_dict; /* the page's values are dictionary indices */
    /* the row group's column chunk */
    sp_buf chunk; /* data pages, headers included, compressed */
    int64_t chunk_uncomp, chunk_n;
    uint8_t used_plain, used_dict;
    /* dictionary */
    int dict_on;
    sp_buf dict;          /* PLAIN values */
    uint32_t *doff;       /* entry -> offset in dict */
    uint32_t ndict, capdict;
    uint32_t *slots;      /* hash: entry + 1, 0 empty */
    uint32_t nslots;
} pq_leaf;

struct sp_fmt_writer {
    const sp_schema *schema;
    pq_node *cols; /* one per schema column */
    size_t ncols;
    pq_leaf *leaves;
    size_t nleaves;
    int codec;
    uint64_t rg_rows_max;
    size_t rg_bytes_max;
    uint64_t rg_rows, total_rows;
    uint64_t off; /* bytes of the file before the next row group ("PAR1") */
    rg_meta *rgs;
    size_t nrgs, caprgs;
    sp_buf body, comp, hdr; /* page scratch */
    uint32_t *lvl32;        /* scratch */
    struct libdeflate_compressor *gz;
    ZSTD_CCtx *zs;
    int finished;
};

/* ======================================================== schema mapping */

static void node_release(pq_node *n)
{
    for (size_t i = 0; i < n->nchild; i++)
        node_release(&n->child[i]);
    free(n->child);
    free(n->name);
}

static int unsupported(const char *col, const sp_type *t, const char *why, sp_error *err)
{
    sp_buf tn = SP_BUF_INIT(4096);
    sp_type_format(t, &tn, NULL);
    int rc = sp_error_set(err, SP_EUNSUPPORTED, 0,
                          "parquet: column '%s': type %s %s (convert it in the query, "
                          "e.g. toString(%s))",
                          col, tn.data ? tn.data : "?", why, col);
    sp_buf_release(&tn);
    return rc;
}

static int dec_bytes(int precision)
{
    return precision <= 9 ? 4 : precision <= 18 ? 8 : precision <= 38 ? 16 : 32;
}

/* ClickHouse type -> Parquet leaf, as ClickHouse 26.7 writes it (the table
 * in docs/formats.md); len 0: none or set below (FixedString, Decimal) */
typedef struct leaf_map {
    sp_kind kind;
    int phys, cv, logical, converted, bits, is_signed, len;
} leaf_map;

static const leaf_map leaf_maps[] = {
    { SP_T_BOOL, T_BOOLEAN, CV_BOOL, LT_NONE, CT_NONE, 0, 0, 0 },
    { SP_T_INT8, T_INT32, CV_I32, LT_INTEGER, CT_INT_8, 8, 1, 0 },
    { SP_T_INT16, T_INT32, CV_I32, LT_INTEGER, CT_INT_16, 16, 1, 0 },
    /* ClickHouse writes Int32 and Int64 without an annotation */
    { SP_T_INT32, T_INT32, CV_I32, LT_NONE, CT_NONE, 0, 0, 0 },
    { SP_T_INT64, T_INT64, CV_I64, LT_NONE, CT_NONE, 0, 0, 0 },
    { SP_T_UINT8, T_INT32, CV_U32, LT_INTEGER, CT_UINT_8, 8, 0, 0 },
    { SP_T_UINT16, T_INT32, CV_U32, LT_INTEGER, CT_UINT_16, 16, 0, 0 },
    { SP_T_UINT32, T_INT32, CV_U32, LT_INTEGER, CT_UINT_32, 32, 0, 0 },
    { SP_T_UINT64, T_INT64, CV_U64, LT_INTEGER, CT_UINT_64, 64, 0, 0 },
    { SP_T_IPV4, T_INT32, CV_IPV4, LT_INTEGER, CT_UINT_32, 32, 0, 0 },
    /* wide integers: ClickHouse's little-endian bytes, no annotation */
    { SP_T_INT128, T_FLBA, CV_BIGINT, LT_NONE, CT_NONE, 0, 0, 16 },
    { SP_T_UINT128, T_FLBA, CV_BIGINT, LT_NONE, CT_NONE, 0, 0, 16 },
    { SP_T_INT256, T_FLBA, CV_BIGINT, LT_NONE, CT_NONE, 0, 0, 32 },
    { SP_T_UINT256, T_FLBA, CV_BIGINT, LT_NONE, CT_NONE, 0, 0, 32 },
    { SP_T_FLOAT32, T_FLOAT, CV_F32, LT_NONE, CT_NONE, 0, 0, 0 },
    { SP_T_FLOAT64, T_DOUBLE, CV_F64, LT_NONE, CT_NONE, 0, 0, 0 },
    { SP_T_DECIMAL, T_FLBA, CV_DEC, LT_DECIMAL, CT_DECIMAL, 0, 0, 0 },
    { SP_T_STRING, T_BYTE_ARRAY, CV_STR, LT_STRING, CT_UTF8, 0, 0, 0 },
    { SP_T_ENUM8, T_BYTE_ARRAY, CV_STR, LT_ENUM, CT_ENUM, 0, 0, 0 },
    { SP_T_ENUM16, T_BYTE_ARRAY, CV_STR, LT_ENUM, CT_ENUM, 0, 0, 0 },
    { SP_T_JSON, T_BYTE_ARRAY, CV_STR, LT_JSON, CT_JSON, 0, 0, 0 },
    { SP_T_FIXEDSTRING, T_FLBA, CV_FIXED, LT_NONE, CT_NONE, 0, 0, 0 },
    { SP_T_UUID, T_FLBA, CV_UUID, LT_UUID, CT_NONE, 0, 0, 16 },
    { SP_T_IPV6, T_FLBA, CV_IPV6, LT_NONE, CT_NONE, 0, 0, 16 },
    { SP_T_DATE, T_INT32, CV_I32, LT_DATE, CT_DATE, 0, 0, 0 },
    { SP_T_DATE32, T_INT32, CV_I32, LT_DATE, CT_DATE, 0, 0, 0 },
    /* DateTime: milliseconds, UTC; DateTime64: the unit is set below */
    { SP_T_DATETIME, T_INT64, CV_MUL64, LT_TIMESTAMP, CT_TIMESTAMP_MILLIS, 0, 0, 0 },
    { SP_T_DATETIME64, T_INT64, CV_MUL64, LT_TIMESTAMP, CT_NONE, 0, 0, 0 },
};

/* leaf_of: n as the leaf of type t; 0, or -1 when t has no mapping */
static int leaf_of(pq_node *n, const sp_type *t)
{
    const leaf_map *m = NULL;
    for (size_t i = 0; i < sizeof leaf_maps / sizeof leaf_maps[0] && !m; i++)
        if (leaf_maps[i].kind == t->kind)
            m = &leaf_maps[i];
    if (!m)
        return -1;
    n->kind = N_LEAF;
    n->phys = m->phys;
    n->cv = (conv)m->cv;
    n->logical = m->logical;
    n->converted = m->converted;
    n->int_bits = m->bits;
    n->int_signed = m->is_signed;
    n->type_length = m->len;
    n->dict = t->low_cardinality;
    if (t->kind == SP_T_FIXEDSTRING) {
        n->type_length = t->precision;
    } else if (t->kind == SP_T_DECIMAL) {
        n->type_length = dec_bytes(t->precision);
        n->precision = t->precision;
        n->scale = t->scale;
    } else if (t->kind == SP_T_DATETIME) {
        n->mul = 1000;
        n->ts_unit = 1;
    } else if (t->kind == SP_T_DATETIME64) { /* scale 0-3 millis, 4-6 micros, 7-9 nanos */
        int sc = t->scale < 0 ? 0 : t->scale;
        int unit = sc <= 3 ? 3 : sc <= 6 ? 6 : 9;
        n->mul = 1;
        for (int k = sc; k < unit; k++)
            n->mul *= 10;
        n->ts_unit = unit / 3;
        n->converted = unit == 3 ? CT_TIMESTAMP_MILLIS : unit == 6 ? CT_TIMESTAMP_MICROS
                                                                   : CT_NONE;
    }
    return 0;
}

static int set_name(pq_node *n, const char *name, sp_error *err)
{
    n->name = strdup(name);
    return n->name ? 0 : sp_error_set(err, SP_ENOMEM, 0, "out of memory (parquet schema)");
}

/* build: the node of type t named name, whose parent is present at
 * definition level def and repetition level rep */
static int build(pq_node *n, const char *col, const char *name, const sp_type *t, int def,
                 int rep, int depth, sp_error *err)
{
    int rc = set_name(n, name, err);
    if (rc)
        return rc;
    if (depth > MAX_DEPTH)
        return unsupported(col, t, "is nested too deeply for Parquet levels", err);
    n->repetition = t->nullable ? R_OPTIONAL : R_REQUIRED;
    n->def = def + (t->nullable ? 1 : 0);
    n->rep = rep;
    n->converted = CT_NONE;
    switch (t->kind) {
    case SP_T_NOTHING:
        return unsupported(col, t, "(NULL without a type) cannot be written as Parquet, "
                           "as in ClickHouse", err);
    case SP_T_ARRAY:
    case SP_T_MAP: {
        int is_map = t->kind == SP_T_MAP;
        n->kind = is_map ? N_MAP : N_LIST;
        n->logical = is_map ? LT_MAP : LT_LIST;
        n->converted = is_map ? CT_MAP : CT_LIST;
        if (!(n->child = calloc(1, sizeof *n->child)))
            return sp_error_set(err, SP_ENOMEM, 0, "out of memory (parquet schema)");
        n->nchild = 1;
        pq_node *g = n->child; /* the repeated group */
        if ((rc = set_name(g, is_map ? "key_value" : "list", err)))
            return rc;
        g->kind = N_GROUP;
        g->repetition = R_REPEATED;
        g->def = n->def + 1;
        g->rep = rep + 1;
        g->converted = is_map ? CT_MAP_KEY_VALUE : CT_NONE; /* as ClickHouse */
        g->nchild = is_map ? 2 : 1;
        if (!(g->child = calloc(g->nchild, sizeof *g->child)))
            return sp_error_set(err, SP_ENOMEM, 0, "out of memory (parquet schema)");
        if (is_map && (rc = build(&g->child[0], col, "key", t->key, g->def, g->rep,
                                  depth + 1, err)))
            return rc;
        return build(&g->child[is_map ? 1 : 0], col, is_map ? "value" : "element", t->elem,
                     g->def, g->rep, depth + 1, err);
    }
    case SP_T_TUPLE:
        n->kind = N_GROUP;
        if (!t->nelems)
            return unsupported(col, t, "(an empty Tuple) has no Parquet mapping", err);
        if (!(n->child = calloc(t->nelems, sizeof *n->child)))
            return sp_error_set(err, SP_ENOMEM, 0, "out of memory (parquet schema)");
        n->nchild = t->nelems;
        for (size_t i = 0; i < t->nelems; i++) {
            char num[24];
            snprintf(num, sizeof num, "%zu", i + 1);
            const char *nm = t->names && t->names[i] ? t->names[i] : num;
            if ((rc = build(&n->child[i], col, nm, t->elems[i], n->def, rep, depth + 1, err)))
                return rc;
        }
        return 0;
    default: /* SP_T_OTHER (Variant, Dynamic, geo types, …) has no entry */
        if (leaf_of(n, t))
            return unsupported(col, t, "has no Parquet mapping", err);
        if (t->kind == SP_T_FIXEDSTRING && t->precision <= 0)
            return unsupported(col, t, "has no length", err);
        return 0;
    }
}

/* number the leaves depth first */
static void number(pq_node *n, size_t *next)
{
    n->first_leaf = *next;
    if (n->kind == N_LEAF)
        (*next)++;
    for (size_t i = 0; i < n->nchild; i++)
        number(&n->child[i], next);
    n->nleaves = *next - n->first_leaf;
}

static int build_schema(const sp_schema *s, pq_node **out, size_t *nleaves, sp_error *err)
{
    pq_node *cols = calloc(s->ncols ? s->ncols : 1, sizeof *cols);
    if (!cols)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (parquet schema)");
    int rc = 0;
    size_t next = 0;
    if (s->ncols == 0)
        rc = sp_error_set(err, SP_EUNSUPPORTED, 0, "parquet: a result without columns "
                          "cannot be written as Parquet");
    for (size_t j = 0; j < s->ncols && !rc; j++) {
        const char *nm = s->names[j] ? s->names[j] : "";
        rc = build(&cols[j], nm, nm, s->types[j], 0, 0, 0, err);
        if (!rc)
            number(&cols[j], &next);
    }
    if (!rc && next > MAX_LEAVES)
        rc = sp_error_set(err, SP_ETOOBIG, 0, "parquet: more than %d leaf columns",
                          MAX_LEAVES);
    if (rc) {
        for (size_t j = 0; j < s->ncols; j++)
            node_release(&cols[j]);
        free(cols);
        return rc;
    }
    *out = cols;
    *nleaves = next;
    return 0;
}

static int pq_header(sp_buf *out, const sp_schema *s, sp_error *err)
{
    pq_node *cols;
    size_t n;
    int rc = build_schema(s, &cols, &n, err);
    if (rc)
        return rc;
    for (size_t j = 0; j < s->ncols; j++)
        node_release(&cols[j]);
    free(cols);
    return sp_buf_add(out, "PAR1", 4, err);
}

/* ======================================================== value encoding */

static inline void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static inline void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int parse_uuid(const sp_str *s, unsigned char out[16])
{
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->p[i] == '-')
            continue;
        if (k >= 32)
            return -1;
        int h = hexval((unsigned char)s->p[i]);
        if (h < 0)
            return -1;
        if (k % 2 == 0)
            out[k / 2] = (unsigned char)(h << 4);
        else
            out[k / 2] |= (unsigned char)h;
        k++;
    }
    return k == 32 ? 0 : -1;
}

static int parse_ip(const sp_str *s, int af, void *out)
{
    char tmp[64];
    if (s->n >= sizeof tmp)
        return -1;
    memcpy(tmp, s->p, s->n);
    tmp[s->n] = '\0';
    return inet_pton(af, tmp, out) == 1 ? 0 : -1;
}

/* parse_int256: decimal text ("-12.5", "340282…") as the integer
 * text × 10^scale in two's complement, 8 little-endian 32-bit limbs */
static int parse_int256(const sp_str *s, int scale, uint32_t limb[8])
{
    memset(limb, 0, 8 * sizeof *limb);
    size_t i = 0;
    int neg = 0, frac = -1, digits = 0;
    if (i < s->n && (s->p[i] == '-' || s->p[i] == '+'))
        neg = s->p[i++] == '-';
    for (; i < s->n; i++) {
        char c = s->p[i];
        if (c == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        if (c < '0' || c > '9')
            return -1;
        if (frac >= 0 && ++frac > scale)
            return -1; /* more fractional digits than the scale */
        uint64_t carry = (uint64_t)(c - '0');
        for (int k = 0; k < 8; k++) {
            uint64_t x = (uint64_t)limb[k] * 10 + carry;
            limb[k] = (uint32_t)x;
            carry = x >> 32;
        }
        digits++;
    }
    if (!digits)
        return -1;
    for (int f = frac < 0 ? 0 : frac; f < scale; f++) {
        uint64_t carry = 0;
        for (int k = 0; k < 8; k++) {
            uint64_t x = (uint64_t)limb[k] * 10 + carry;
            limb[k] = (uint32_t)x;
            carry = x >> 32;
        }
    }
    if (neg) {
        uint64_t carry = 1;
        for (int k = 0; k < 8; k++) {
            uint64_t x = (uint64_t)(uint32_t)~limb[k] + carry;
            limb[k] = (uint32_t)x;
            carry = x >> 32;
        }
    }
    return 0;
}

static int bad_value(const pq_leaf *l, const sp_str *s, sp_error *err)
{
    return sp_error_set(err, SP_EDATA, 0, "parquet: column '%s': cannot convert '%.*s'",
                        l->path[0], (int)(s->n > 64 ? 64 : s->n), s->p);
}

/* encode: the PLAIN bytes of value (c, i) of leaf l at p (room for
 * value_room bytes); returns the length, or -1 with err set */
static long encode(const pq_leaf *l, const sp_column *c, size_t i, unsigned char *p,
                   sp_error *err)
{
    const pq_node *n = l->node;
    switch (n->cv) {
    case CV_BOOL:
        *p = c->v.u64[i] ? 1 : 0;
        return 1;
    case CV_I32:
        put32(p, (uint32_t)(int32_t)c->v.i64[i]);
        return 4;
    case CV_U32:
        put32(p, (uint32_t)c->v.u64[i]);
        return 4;
    case CV_I64:
        put64(p, (uint64_t)c->v.i64[i]);
        return 8;
    case CV_U64:
        put64(p, c->v.u64[i]);
        return 8;
    case CV_MUL64:
        put64(p, (uint64_t)c->v.i64[i] * (uint64_t)n->mul);
        return 8;
    case CV_F32: {
        float f = (float)c->v.f64[i];
        memcpy(p, &f, 4);
        return 4;
    }
    case CV_F64:
        memcpy(p, &c->v.f64[i], 8);
        return 8;
    case CV_STR: {
        const sp_str *s = &c->v.str[i];
        put32(p, (uint32_t)s->n);
        memcpy(p + 4, s->p, s->n);
        return (long)s->n + 4;
    }
    case CV_FIXED: {
        const sp_str *s = &c->v.str[i];
        size_t len = (size_t)n->type_length;
        size_t m = s->n < len ? s->n : len;
        memcpy(p, s->p, m);
        memset(p + m, 0, len - m);
        return (long)len;
    }
    case CV_UUID:
        if (parse_uuid(&c->v.str[i], p))
            return bad_value(l, &c->v.str[i], err), -1;
        return 16;
    case CV_IPV4: {
        struct in_addr a;
        if (parse_ip(&c->v.str[i], AF_INET, &a))
            return bad_value(l, &c->v.str[i], err), -1;
        put32(p, ntohl(a.s_addr));
        return 4;
    }
    case CV_IPV6:
        if (parse_ip(&c->v.str[i], AF_INET6, p))
            return bad_value(l, &c->v.str[i], err), -1;
        return 16;
    case CV_DEC:
    case CV_BIGINT: {
        uint32_t limb[8];
        int len = n->type_length;
        if (parse_int256(&c->v.str[i], n->cv == CV_DEC ? n->scale : 0, limb))
            return bad_value(l, &c->v.str[i], err), -1;
        for (int b = 0; b < len; b++) {
            unsigned char byte = (unsigned char)(limb[b / 4] >> (8 * (b % 4)));
            p[n->cv == CV_DEC ? len - 1 - b : b] = byte; /* Decimal big-endian */
        }
        return len;
    }
    }
    return 0;
}

/* the most bytes encode() writes for value (c, i) */
static inline size_t value_room(const pq_node *n, const sp_column *c, size_t i)
{
    if (n->cv == CV_STR)
        return c->v.str[i].n + 4;
    return n->type_length > 16 ? (size_t)n->type_length : 16;
}

/* ======================================================== dictionary */

static uint64_t hash_bytes(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 29;
    }
    for (; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h ^ (h >> 32);
}

static size_t dict_len(const pq_leaf *l, uint32_t e)
{
    return (e + 1 < l->ndict ? l->doff[e + 1] : (uint32_t)l->dict.len) - l->doff[e];
}

static int dict_rehash(pq_leaf *l, sp_error *err)
{
    uint32_t n = l->nslots ? l->nslots * 2 : 1024;
    uint32_t *sl = calloc(n, sizeof *sl);
    if (!sl)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (parquet dictionary)");
    for (uint32_t e = 0; e < l->ndict; e++) {
        uint32_t j = (uint32_t)hash_bytes((unsigned char *)l->dict.data + l->doff[e],
                                          dict_len(l, e)) & (n - 1);
        while (sl[j])
            j = (j + 1) & (n - 1);
        sl[j] = e + 1;
    }
    free(l->slots);
    l->slots = sl;
    l->nslots = n;
    return 0;
}

/* dict_index: the entry of value bytes p[0..n), added when new */
static int dict_index(pq_leaf *l, const unsigned char *p, size_t n, uint32_t *out,
                      sp_error *err)
{
    int rc;
    if ((l->ndict + 1) * 2 > l->nslots && (rc = dict_rehash(l, err)))
        return rc;
    uint32_t j = (uint32_t)hash_bytes(p, n) & (l->nslots - 1);
    for (; l->slots[j]; j = (j + 1) & (l->nslots - 1)) {
        uint32_t e = l->slots[j] - 1;
        if (dict_len(l, e) == n && !memcmp(l->dict.data + l->doff[e], p, n)) {
            *out = e;
            return 0;
        }
    }
    if (l->ndict == l->capdict) {
        uint32_t nc = l->capdict ? l->capdict * 2 : 256;
        uint32_t *d = realloc(l->doff, nc * sizeof *d);
        if (!d)
            return sp_error_set(err, SP_ENOMEM, 0, "out of memory (parquet dictionary)");
        l->doff = d;
        l->capdict = nc;
    }
    l->doff[l->ndict] = (uint32_t)l->dict.len;
    if ((rc = sp_buf_add(&l->dict, p, n, err)))
        return rc;
    l->slots[j] = l->ndict + 1;
    *out = l->ndict++;
    return 0;
}

/* ======================================================== pages */

static int compress(sp_fmt_writer *w, const sp_buf *in, const sp_buf **out, sp_error *err)
{
    if (w->codec == C_UNCOMPRESSED) {
        *out = in;
        return 0;
    }
    sp_buf *o = &w->comp;
    sp_buf_reset(o);
    size_t cap, got = 0;
    if (w->codec == C_SNAPPY)
        cap = snappy_max_compressed_length(in->len);
    else if (w->codec == C_GZIP)
        cap = libdeflate_gzip_compress_bound(w->gz, in->len);
    else if (w->codec == C_LZ4_RAW)
        cap = in->len <= LZ4_MAX_INPUT_SIZE ? (size_t)LZ4_compressBound((int)in->len) : 0;
    else
        cap = ZSTD_compressBound(in->len);
    int rc = sp_buf_grow(o, cap, err);
    if (rc)
        return rc;
    const char *src = in->data ? in->data : "";
    if (w->codec == C_SNAPPY) {
        got = cap;
        if (snappy_compress(src, in->len, o->data, &got) != SNAPPY_OK)
            got = 0;
    } else if (w->codec == C_GZIP) {
        got = libdeflate_gzip_compress(w->gz, src, in->len, o->data, cap);
    } else if (w->codec == C_LZ4_RAW) { /* one raw LZ4 block (Parquet's LZ4_RAW) */
        int z = cap ? LZ4_compress_default(src, o->data, (int)in->len, (int)cap) : 0;
        got = z > 0 ? (size_t)z : 0;
    } else {
        size_t z = ZSTD_compressCCtx(w->zs, o->data, cap, src, in->len, 3);
        got = ZSTD_isError(z) ? 0 : z;
    }
    if (!got)
        return sp_error_set(err, SP_ECODEC, 0, "parquet: compressing a %zu-byte page failed",
                            in->len);
    o->len = got;
    *out = o;
    return 0;
}

static int add_levels(sp_fmt_writer *w, const sp_buf *lv, size_t n, int bw, sp_error *err)
{
    size_t at = w->body.len;
    unsigned char len4[4] = { 0, 0, 0, 0 };
    int rc = sp_buf_add(&w->body, len4, 4, err);
    if (!rc)
        rc = sp_rle_encode8((const uint8_t *)lv->data, n, bw, &w->body, err);
    if (!rc)
        put32((unsigned char *)w->body.data + at, (uint32_t)(w->body.len - at - 4));
    return rc;
}

/* page_out: a page header (written by the caller into w->hdr) and its body
 * appended to the leaf's chunk, compressed */
static int page_header(sp_fmt_writer *w, int type, size_t uncomp, size_t comp, size_t nvals,
                       int enc, sp_error *err)
{
    sp_thrift t;
    sp_buf_reset(&w->hdr);
    sp_thrift_init(&t, &w->hdr, err);
    sp_thrift_i32(&t, 1, type);
    sp_thrift_i32(&t, 2, (int32_t)uncomp);
    sp_thrift_i32(&t, 3, (int32_t)comp);
    if (type == 0) { /* DATA_PAGE */
        sp_thrift_struct_begin(&t, 5);
        sp_thrift_i32(&t, 1, (int32_t)nvals);
        sp_thrift_i32(&t, 2, enc);
        sp_thrift_i32(&t, 3, E_RLE);
        sp_thrift_i32(&t, 4, E_RLE);
        sp_thrift_struct_end(&t);
    } else { /* DICTIONARY_PAGE */
        sp_thrift_struct_begin(&t, 7);
        sp_thrift_i32(&t, 1, (int32_t)nvals);
        sp_thrift_i32(&t, 2, E_PLAIN);
        sp_thrift_struct_end(&t);
    }
    sp_thrift_struct_end(&t);
    return t.rc;
}

static int page_flush(sp_fmt_writer *w, pq_leaf *l, sp_error *err)
{
    if (!l->page_n)
        return 0;
    sp_buf_reset(&w->body);
    const pq_node *n = l->node;
    int rc = 0;
    if (n->rep > 0)
        rc = add_levels(w, &l->reps, l->page_n, l->rbw, err);
    if (!rc && n->def > 0)
        rc = add_levels(w, &l->defs, l->page_n, l->dbw, err);
    /* a page of NULLs only has no index: PLAIN (no values), so that a
     * chunk without a value has no (empty) dictionary page */
    int dict = l->page_dict && l->nidx > 0;
    if (!rc && dict) {
        int bw = sp_rle_bit_width(l->ndict ? l->ndict - 1 : 0);
        if (bw == 0)
            bw = 1;
        rc = sp_buf_addch(&w->body, (char)bw, err);
        if (!rc)
            rc = sp_rle_encode32(l->idx, l->nidx, bw, &w->body, err);
    } else if (!rc && n->phys == T_BOOLEAN) {
        size_t nb = (l->vals.len + 7) / 8;
        if (!(rc = sp_buf_grow(&w->body, nb, err))) {
            unsigned char *p = (unsigned char *)w->body.data + w->body.len;
            memset(p, 0, nb);
            for (size_t i = 0; i < l->vals.len; i++)
                p[i / 8] |= (unsigned char)((l->vals.data[i] & 1) << (i % 8));
            w->body.len += nb;
        }
    } else if (!rc && l->vals.len) {
        rc = sp_buf_add(&w->body, l->vals.data, l->vals.len, err);
    }
    const sp_buf *cb = NULL;
    if (!rc)
        rc = compress(w, &w->body, &cb, err);
    if (!rc)
        rc = page_header(w, 0, w->body.len, cb->len, l->page_n,
                         dict ? E_RLE_DICTIONARY : E_PLAIN, err);
    if (!rc)
        rc = sp_buf_add(&l->chunk, w->hdr.data, w->hdr.len, err);
    if (!rc)
        rc = sp_buf_add(&l->chunk, cb->data, cb->len, err);
    if (rc)
        return rc;
    l->chunk_uncomp += (int64_t)(w->hdr.len + w->body.len);
    l->chunk_n += (int64_t)l->page_n;
    if (dict)
        l->used_dict = 1;
    else
        l->used_plain = 1;
    l->page_n = l->nidx = 0;
    sp_buf_reset(&l->vals);
    sp_buf_reset(&l->defs);
    sp_buf_reset(&l->reps);
    l->page_dict = l->dict_on;
    return 0;
}

static inline size_t page_bytes(const pq_leaf *l)
{
    return l->vals.len + l->page_n * 2 + l->nidx * 4;
}

/* ======================================================== shredding */

static int push_levels(pq_leaf *l, int rep, int def, sp_error *err)
{
    int rc = 0;
    if (l->node->rep > 0 && (rc = sp_buf_addch(&l->reps, (char)rep, err)))
        return rc;
    if (l->node->def > 0 && (rc = sp_buf_addch(&l->defs, (char)def, err)))
        return rc;
    l->page_n++;
    return 0;
}

/* put_value: value (c, i) into leaf l's page (PLAIN bytes or an index) */
static int put_value(sp_fmt_writer *w, pq_leaf *l, const sp_column *c, size_t i, sp_error *err)
{
    const pq_node *n = l->node;
    size_t at = l->vals.len;
    int rc = sp_buf_grow(&l->vals, value_room(n, c, i), err);
    if (rc)
        return rc;
    long len = encode(l, c, i, (unsigned char *)l->vals.data + at, err);
    if (len < 0)
        return SP_EDATA;
    if (!l->page_dict) {
        l->vals.len = at + (size_t)len;
        return 0;
    }
    uint32_t e = 0;
    if ((rc = dict_index(l, (unsigned char *)l->vals.data + at, (size_t)len, &e, err)))
        return rc;
    if (l->nidx == l->capidx) {
        size_t nc = l->capidx ? l->capidx * 2 : 1024;
        uint32_t *x = realloc(l->idx, nc * sizeof *x);
        if (!x)
            return sp_error_set(err, SP_ENOMEM, 0, "out of memory (parquet indices)");
        l->idx = x;
        l->capidx = nc;
    }
    l->idx[l->nidx++] = e;
    if (l->dict.len > DICT_MAX)
        l->dict_on = 0; /* PLAIN from the next page on (see leaves_check) */
    (void)w;
    return 0;
}

/* null_all: an absent value (NULL or empty list) for every leaf of n */
static int null_all(sp_fmt_writer *w, const pq_node *n, int rep, int def, sp_error *err)
{
    int rc = 0;
    for (size_t k = n->first_leaf; k < n->first_leaf + n->nleaves && !rc; k++)
        rc = push_levels(&w->leaves[k], rep, def, err);
    return rc;
}

/* shred: value (c, i) of node n, whose parent is present at level def */
static int shred(sp_fmt_writer *w, const pq_node *n, const sp_column *c, size_t i, int rep,
                 int def, sp_error *err)
{
    int rc = 0;
    if (n->repetition == R_OPTIONAL) {
        if (c->nulls && c->nulls[i])
            return null_all(w, n, rep, def, err);
        def++;
    }
    switch (n->kind) {
    case N_LEAF: {
        pq_leaf *l = &w->leaves[n->first_leaf];
        if (!(rc = push_levels(l, rep, def, err)))
            rc = put_value(w, l, c, i, err);
        return rc;
    }
    case N_GROUP:
        for (size_t k = 0; k < n->nchild && !rc; k++)
            rc = shred(w, &n->child[k], &c->child[k], i, rep, def, err);
        return rc;
    default: { /* N_LIST, N_MAP */
        const pq_node *g = &n->child[0];
        size_t from = (size_t)c->offsets[i], to = (size_t)c->offsets[i + 1];
        if (from == to)
            return null_all(w, n, rep, def, err);
        for (size_t j = from; j < to && !rc; j++) {
            int r = j == from ? rep : g->rep;
            for (size_t k = 0; k < g->nchild && !rc; k++)
                rc = shred(w, &g->child[k], &c->child[k], j, r, def + 1, err);
        }
        return rc;
    }
    }
}

/* flat: a top-level leaf, rows [from, to) column at a time */
static int flat(sp_fmt_writer *w, const pq_node *n, const sp_column *c, size_t from, size_t to,
                sp_error *err)
{
    pq_leaf *l = &w->leaves[n->first_leaf];
    size_t cnt = to - from;
    int rc;
    if (n->def > 0) {
        if ((rc = sp_buf_grow(&l->defs, cnt, err)))
            return rc;
        char *d = l->defs.data + l->defs.len;
        if (c->nulls)
            for (size_t i = 0; i < cnt; i++)
                d[i] = (char)!c->nulls[from + i];
        else
            memset(d, 1, cnt);
        l->defs.len += cnt;
    }
    l->page_n += cnt;
    /* fixed-width values without a dictionary: one grow, a tight loop */
    if (!l->page_dict && n->cv <= CV_F64) {
        size_t wdt = n->cv == CV_BOOL ? 1 : n->phys == T_INT32 || n->phys == T_FLOAT ? 4 : 8;
        if ((rc = sp_buf_grow(&l->vals, cnt * wdt, err)))
            return rc;
        unsigned char *p = (unsigned char *)l->vals.data + l->vals.len;
        for (size_t i = from; i < to; i++) {
            if (c->nulls && c->nulls[i])
                continue;
            p += encode(l, c, i, p, err);
        }
        l->vals.len = (size_t)(p - (unsigned char *)l->vals.data);
        return 0;
    }
    if (!l->page_dict && n->cv == CV_STR) {
        size_t need = 0;
        for (size_t i = from; i < to; i++)
            need += c->v.str[i].n + 4;
        if ((rc = sp_buf_grow(&l->vals, need, err)))
            return rc;
        unsigned char *p = (unsigned char *)l->vals.data + l->vals.len;
        for (size_t i = from; i < to; i++) {
            if (c->nulls && c->nulls[i])
                continue;
            const sp_str *s = &c->v.str[i];
            put32(p, (uint32_t)s->n);
            memcpy(p + 4, s->p, s->n);
            p += 4 + s->n;
        }
        l->vals.len = (size_t)(p - (unsigned char *)l->vals.data);
        return 0;
    }
    for (size_t i = from; i < to; i++) {
        if (c->nulls && c->nulls[i])
            continue;
        if ((rc = put_value(w, l, c, i, err)))
            return rc;
    }
    return 0;
}

/* leaves_check: after whole rows, flush the full pages of n's leaves (and
 * the page of a leaf whose dictionary was just abandoned) */
static int leaves_check(sp_fmt_writer *w, const pq_node *n, sp_error *err)
{
    int rc = 0;
    for (size_t k = n->first_leaf; k < n->first_leaf + n->nleaves && !rc; k++) {
        pq_leaf *l = &w->leaves[k];
        if (page_bytes(l) >= PAGE_SIZE || (l->page_dict && !l->dict_on))
            rc = page_flush(w, l, err);
    }
    return rc;
}

/* ======================================================== row groups */

/* buffered: the memory the writer holds (capacities, not lengths: a
 * partitioned export keeps many writers, and what they hold is what the
 * sink bounds); a closed row group gives all of it back (leaf_release) */
static size_t buffered(const sp_fmt_writer *w)
{
    size_t b = w->body.cap + w->comp.cap + w->hdr.cap;
    for (size_t k = 0; k < w->nleaves; k++) {
        const pq_leaf *l = &w->leaves[k];
        b += l->chunk.cap + l->vals.cap + l->defs.cap + l->reps.cap + l->dict.cap +
             (l->capidx + l->capdict + l->nslots) * sizeof(uint32_t);
    }
    return b;
}

/* leaf_release: free l's buffers (its page and row group are empty) */
static void leaf_release(pq_leaf *l)
{
    sp_buf_release(&l->vals);
    sp_buf_release(&l->defs);
    sp_buf_release(&l->reps);
    sp_buf_release(&l->chunk);
    sp_buf_release(&l->dict);
    free(l->idx);
    free(l->doff);
    free(l->slots);
    l->idx = NULL;
    l->doff = l->slots = NULL;
    l->nidx = l->capidx = 0;
    l->ndict = l->capdict = l->nslots = 0;
}

static int rg_flush(sp_fmt_writer *w, sp_buf *out, sp_error *err)
{
    if (!w->rg_rows)
        return 0;
    int rc = 0;
    for (size_t k = 0; k < w->nleaves && !rc; k++)
        rc = page_flush(w, &w->leaves[k], err);
    if (rc)
        return rc;
    if (w->nrgs == w->caprgs) {
        size_t nc = w->caprgs ? w->caprgs * 2 : 8;
        rg_meta *r = realloc(w->rgs, nc * sizeof *r);
        if (!r)
            return sp_error_set(err, SP_ENOMEM, 0, "out of memory (parquet row groups)");
        w->rgs = r;
        w->caprgs = nc;
    }
    rg_meta *g = &w->rgs[w->nrgs];
    memset(g, 0, sizeof *g);
    if (!(g->cols = calloc(w->nleaves, sizeof *g->cols)))
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (parquet row groups)");
    w->nrgs++;
    g->rows = (int64_t)w->rg_rows;
    g->off = (int64_t)w->off;
    for (size_t k = 0; k < w->nleaves && !rc; k++) {
        pq_leaf *l = &w->leaves[k];
        chunk_meta *m = &g->cols[k];
        int64_t start = (int64_t)w->off;
        m->dict_off = -1;
        if (l->used_dict) {
            const sp_buf *cb = NULL;
            rc = compress(w, &l->dict, &cb, err);
            if (!rc)
                rc = page_header(w, 2, l->dict.len, cb->len, l->ndict, E_PLAIN, err);
            if (!rc)
                rc = sp_buf_add(out, w->hdr.data, w->hdr.len, err);
            if (!rc)
                rc = sp_buf_add(out, cb->data, cb->len, err);
            if (rc)
                break;
            m->dict_off = start;
            m->uncomp += (int64_t)(w->hdr.len + l->dict.len);
            w->off += w->hdr.len + cb->len;
        }
        m->data_off = (int64_t)w->off;
        if ((rc = sp_buf_add(out, l->chunk.data, l->chunk.len, err)))
            break;
        w->off += l->chunk.len;
        m->uncomp += l->chunk_uncomp;
        m->comp = (int64_t)w->off - start;
        m->num_values = l->chunk_n;
        m->has_levels = l->node->def > 0 || l->node->rep > 0;
        m->has_plain = l->used_plain || l->used_dict;
        m->has_dict = l->used_dict;
        g->bytes += m->uncomp;
        g->comp += m->comp;
        leaf_release(l);
        l->chunk_uncomp = l->chunk_n = 0;
        l->used_plain = l->used_dict = 0;
        l->dict_on = l->page_dict = l->node->dict;
    }
    sp_buf_release(&w->body);
    sp_buf_release(&w->comp);
    sp_buf_release(&w->hdr);
    w->total_rows += w->rg_rows;
    w->rg_rows = 0;
    return rc;
}

static int pq_rows(sp_fmt_writer *w, const sp_batch *b, size_t from, size_t to, sp_buf *out,
                   sp_error *err)
{
    if (w->finished)
        return sp_error_set(err, SP_EINTERNAL, 0, "parquet: rows after the footer");
    if (b->ncols != w->ncols)
        return sp_error_set(err, SP_EINTERNAL, 0, "parquet: batch of %zu columns, schema %zu",
                            b->ncols, w->ncols);
    int rc = 0;
    while (from < to && !rc) {
        uint64_t room = w->rg_rows_max - w->rg_rows;
        size_t end = (uint64_t)(to - from) > room ? from + (size_t)room : to;
        for (size_t j = 0; j < w->ncols && !rc; j++) {
            const pq_node *n = &w->cols[j];
            const sp_column *c = &b->cols[j];
            if (n->kind == N_LEAF) {
                rc = flat(w, n, c, from, end, err);
            } else {
                for (size_t i = from; i < end && !rc; i++)
                    rc = shred(w, n, c, i, 0, 0, err);
            }
            if (!rc)
                rc = leaves_check(w, n, err);
        }
        w->rg_rows += end - from;
        from = end;
        if (!rc && (w->rg_rows >= w->rg_rows_max || buffered(w) >= w->rg_bytes_max))
            rc = rg_flush(w, out, err);
    }
    return rc;
}

/* ======================================================== footer */

static void schema_elem(sp_thrift *t, const pq_node *n)
{
    sp_thrift_elem_struct(t);
    if (n->kind == N_LEAF) {
        sp_thrift_i32(t, 1, n->phys);
        if (n->phys == T_FLBA)
            sp_thrift_i32(t, 2, n->type_length);
    }
    sp_thrift_i32(t, 3, n->repetition);
    sp_thrift_string(t, 4, n->name);
    if (n->kind != N_LEAF)
        sp_thrift_i32(t, 5, (int32_t)n->nchild);
    if (n->converted != CT_NONE)
        sp_thrift_i32(t, 6, n->converted);
    if (n->logical == LT_DECIMAL) {
        sp_thrift_i32(t, 7, n->scale);
        sp_thrift_i32(t, 8, n->precision);
    }
    if (n->logical != LT_NONE) {
        sp_thrift_struct_begin(t, 10);
        sp_thrift_struct_begin(t, (int16_t)n->logical);
        if (n->logical == LT_DECIMAL) {
            sp_thrift_i32(t, 1, n->scale);
            sp_thrift_i32(t, 2, n->precision);
        } else if (n->logical == LT_TIMESTAMP) {
            sp_thrift_bool(t, 1, 1);
            sp_thrift_struct_begin(t, 2);
            sp_thrift_struct_begin(t, (int16_t)n->ts_unit);
            sp_thrift_struct_end(t);
            sp_thrift_struct_end(t);
        } else if (n->logical == LT_INTEGER) {
            sp_thrift_byte(t, 1, (int8_t)n->int_bits);
            sp_thrift_bool(t, 2, n->int_signed);
        }
        sp_thrift_struct_end(t);
        sp_thrift_struct_end(t);
    }
    sp_thrift_struct_end(t);
    for (size_t k = 0; k < n->nchild; k++)
        schema_elem(t, &n->child[k]);
}

static size_t count_nodes(const pq_node *n)
{
    size_t c = 1;
    for (size_t k = 0; k < n->nchild; k++)
        c += count_nodes(&n->child[k]);
    return c;
}

static void column_chunk(sp_thrift *t, const sp_fmt_writer *w, const pq_leaf *l,
                         const chunk_meta *m)
{
    sp_thrift_elem_struct(t);
    sp_thrift_i64(t, 2, m->dict_off >= 0 ? m->dict_off : m->data_off);
    sp_thrift_struct_begin(t, 3);
    sp_thrift_i32(t, 1, l->node->phys);
    int encs[3], ne = 0;
    if (m->has_levels)
        encs[ne++] = E_RLE;
    encs[ne++] = E_PLAIN;
    if (m->has_dict)
        encs[ne++] = E_RLE_DICTIONARY;
    sp_thrift_list_begin(t, 2, SP_THRIFT_I32, (size_t)ne);
    for (int e = 0; e < ne; e++)
        sp_thrift_elem_i32(t, encs[e]);
    sp_thrift_list_begin(t, 3, SP_THRIFT_BINARY, l->npath);
    for (size_t k = 0; k < l->npath; k++)
        sp_thrift_elem_string(t, l->path[k]);
    sp_thrift_i32(t, 4, w->codec);
    sp_thrift_i64(t, 5, m->num_values);
    sp_thrift_i64(t, 6, m->uncomp);
    sp_thrift_i64(t, 7, m->comp);
    sp_thrift_i64(t, 9, m->data_off);
    if (m->dict_off >= 0)
        sp_thrift_i64(t, 11, m->dict_off);
    sp_thrift_struct_end(t);
    sp_thrift_struct_end(t);
}

static int footer(sp_fmt_writer *w, sp_buf *out, sp_error *err)
{
    size_t at = out->len;
    sp_thrift t;
    sp_thrift_init(&t, out, err);
    sp_thrift_i32(&t, 1, 2);
    size_t nn = 1;
    for (size_t j = 0; j < w->ncols; j++)
        nn += count_nodes(&w->cols[j]);
    sp_thrift_list_begin(&t, 2, SP_THRIFT_STRUCT, nn);
    sp_thrift_elem_struct(&t); /* the root */
    sp_thrift_string(&t, 4, "schema");
    sp_thrift_i32(&t, 5, (int32_t)w->ncols);
    sp_thrift_struct_end(&t);
    for (size_t j = 0; j < w->ncols; j++)
        schema_elem(&t, &w->cols[j]);
    sp_thrift_i64(&t, 3, (int64_t)w->total_rows);
    sp_thrift_list_begin(&t, 4, SP_THRIFT_STRUCT, w->nrgs);
    for (size_t g = 0; g < w->nrgs; g++) {
        const rg_meta *r = &w->rgs[g];
        sp_thrift_elem_struct(&t);
        sp_thrift_list_begin(&t, 1, SP_THRIFT_STRUCT, w->nleaves);
        for (size_t k = 0; k < w->nleaves; k++)
            column_chunk(&t, w, &w->leaves[k], &r->cols[k]);
        sp_thrift_i64(&t, 2, r->bytes);
        sp_thrift_i64(&t, 3, r->rows);
        sp_thrift_i64(&t, 5, r->off);
        sp_thrift_i64(&t, 6, r->comp);
        sp_thrift_struct_end(&t);
    }
    sp_thrift_string(&t, 6, "sinkpipe");
    sp_thrift_struct_end(&t);
    if (t.rc)
        return t.rc;
    unsigned char tail[8];
    put32(tail, (uint32_t)(out->len - at));
    memcpy(tail + 4, "PAR1", 4);
    return sp_buf_add(out, tail, 8, err);
}

static int pq_flush(sp_fmt_writer *w, sp_buf *out, sp_error *err)
{
    if (w->finished)
        return 0;
    return rg_flush(w, out, err);
}

static int pq_finish(sp_fmt_writer *w, sp_buf *out, sp_error *err)
{
    if (w->finished)
        return sp_error_set(err, SP_EINTERNAL, 0, "parquet: footer written twice");
    int rc = rg_flush(w, out, err);
    if (!rc)
        rc = footer(w, out, err);
    w->finished = 1;
    return rc;
}

static size_t pq_buffered(const sp_fmt_writer *w)
{
    return buffered(w);
}

/* ======================================================== open / free */

static void pq_free(sp_fmt_writer *w)
{
    if (!w)
        return;
    for (size_t k = 0; k < w->nleaves; k++) {
        free(w->leaves[k].path);
        leaf_release(&w->leaves[k]);
    }
    free(w->leaves);
    for (size_t j = 0; j < w->ncols; j++)
        node_release(&w->cols[j]);
    free(w->cols);
    for (size_t g = 0; g < w->nrgs; g++)
        free(w->rgs[g].cols);
    free(w->rgs);
    sp_buf_release(&w->body);
    sp_buf_release(&w->comp);
    sp_buf_release(&w->hdr);
    if (w->gz)
        libdeflate_free_compressor(w->gz);
    if (w->zs)
        ZSTD_freeCCtx(w->zs);
    free(w);
}

/* setup_leaves: each leaf's node and path (names below the root) */
static int setup_leaves(sp_fmt_writer *w, const pq_node *n, const pq_node **stack, size_t depth,
                        sp_error *err)
{
    stack[depth] = n;
    if (n->kind == N_LEAF) {
        pq_leaf *l = &w->leaves[n->first_leaf];
        l->node = n;
        l->npath = depth + 1;
        if (!(l->path = malloc(l->npath * sizeof *l->path)))
            return sp_error_set(err, SP_ENOMEM, 0, "out of memory (parquet writer)");
        for (size_t k = 0; k <= depth; k++)
            l->path[k] = stack[k]->name;
        l->dbw = sp_rle_bit_width((uint32_t)n->def);
        l->rbw = sp_rle_bit_width((uint32_t)n->rep);
        sp_buf_init(&l->vals, LEAF_BUF_MAX);
        sp_buf_init(&l->defs, LEAF_BUF_MAX);
        sp_buf_init(&l->reps, LEAF_BUF_MAX);
        sp_buf_init(&l->chunk, LEAF_BUF_MAX);
        sp_buf_init(&l->dict, LEAF_BUF_MAX);
        l->dict_on = l->page_dict = n->dict;
        return 0;
    }
    int rc = 0;
    for (size_t k = 0; k < n->nchild && !rc; k++)
        rc = setup_leaves(w, &n->child[k], stack, depth + 1, err);
    return rc;
}

static int codec_of(const char *name, int *out, sp_error *err)
{
    static const struct {
        const char *name;
        int codec;
    } codecs[] = { { "snappy", C_SNAPPY }, { "none", C_UNCOMPRESSED }, { "gzip", C_GZIP },
                   { "zstd", C_ZSTD }, { "lz4", C_LZ4_RAW } };
    if (!name || !*name)
        name = "snappy";
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
        if (!strcmp(codecs[i].name, name)) {
            *out = codecs[i].codec;
            return 0;
        }
    return sp_error_set(err, SP_EDEF, 0,
                        "parquet: unknown page compression '%s' (expected snappy, zstd, gzip, "
                        "lz4, none)",
                        name);
}

static int pq_open(sp_fmt_writer **out, const sp_schema *s, const sp_fmt_opts *o, sp_error *err)
{
    *out = NULL;
    sp_fmt_writer *w = calloc(1, sizeof *w);
    if (!w)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (parquet writer)");
    w->schema = s;
    w->off = 4; /* "PAR1" */
    w->rg_rows_max = o && o->row_group_rows ? o->row_group_rows : ROW_GROUP_ROWS_DEFAULT;
    w->rg_bytes_max = o && o->row_group_bytes ? o->row_group_bytes : ROW_GROUP_BYTES_DEFAULT;
    sp_buf_init(&w->body, LEAF_BUF_MAX);
    sp_buf_init(&w->comp, (size_t)2 << 30);
    sp_buf_init(&w->hdr, 1 << 20);
    int rc = codec_of(o ? o->compression : NULL, &w->codec, err);
    if (!rc && w->codec == C_GZIP && !(w->gz = libdeflate_alloc_compressor(6)))
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory (gzip compressor)");
    if (!rc && w->codec == C_ZSTD && !(w->zs = ZSTD_createCCtx()))
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory (zstd compressor)");
    if (!rc)
        rc = build_schema(s, &w->cols, &w->nleaves, err);
    if (!rc)
        w->ncols = s->ncols;
    if (!rc && !(w->leaves = calloc(w->nleaves, sizeof *w->leaves)))
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory (parquet writer)");
    const pq_node *stack[MAX_DEPTH * 2 + 8];
    for (size_t j = 0; j < w->ncols && !rc; j++)
        rc = setup_leaves(w, &w->cols[j], stack, 0, err);
    if (rc) {
        pq_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

const sp_format sp_format_parquet = {
    .name = "parquet",
    .ext = "parquet",
    .content_type = "application/vnd.apache.parquet",
    .header = pq_header,
    .w_open = pq_open,
    .w_rows = pq_rows,
    .w_flush = pq_flush,
    .w_finish = pq_finish,
    .w_buffered = pq_buffered,
    .w_free = pq_free,
};
