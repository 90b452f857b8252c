/* sp_duck_conv: DuckDB result chunks -> sp_batch (see sp_duck_conv.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_duck_conv.h"
#include "sp_error.h"

/* ------------------------------------------------------------ numbers */

size_t sp__duck_u128_text(unsigned __int128 v, char *buf)
{
    char tmp[48];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return n;
}

size_t sp__duck_i128_text(__int128 v, int scale, char *buf)
{
    unsigned __int128 u = v < 0 ? (unsigned __int128)0 - (unsigned __int128)v
                                : (unsigned __int128)v;
    char digits[48];
    size_t nd = sp__duck_u128_text(u, digits);
    size_t n = 0;
    if (v < 0)
        buf[n++] = '-';
    if (scale <= 0) {
        memcpy(buf + n, digits, nd + 1);
        return n + nd;
    }
    size_t sc = (size_t)scale;
    /* integer part */
    if (nd > sc) {
        memcpy(buf + n, digits, nd - sc);
        n += nd - sc;
    } else {
        buf[n++] = '0';
    }
    /* fraction, left-padded with zeros to `sc` digits */
    char frac[48];
    size_t pad = nd < sc ? sc - nd : 0;
    memset(frac, '0', pad);
    memcpy(frac + pad, digits + (nd > sc ? nd - sc : 0), sc - pad);
    size_t fl = sc;
    while (fl > 0 && frac[fl - 1] == '0')
        fl--;
    if (fl) {
        buf[n++] = '.';
        memcpy(buf + n, frac, fl);
        n += fl;
    }
    buf[n] = '\0';
    return n;
}

/* ------------------------------------------------------------ types */

static sp_kind simple_kind(duckdb_type id)
{
    switch (id) {
    case DUCKDB_TYPE_BOOLEAN: return SP_T_BOOL;
    case DUCKDB_TYPE_TINYINT: return SP_T_INT8;
    case DUCKDB_TYPE_SMALLINT: return SP_T_INT16;
    case DUCKDB_TYPE_INTEGER: return SP_T_INT32;
    case DUCKDB_TYPE_BIGINT: return SP_T_INT64;
    case DUCKDB_TYPE_INTERVAL: return SP_T_INT64; /* seconds */
    case DUCKDB_TYPE_UTINYINT: return SP_T_UINT8;
    case DUCKDB_TYPE_USMALLINT: return SP_T_UINT16;
    case DUCKDB_TYPE_UINTEGER: return SP_T_UINT32;
    case DUCKDB_TYPE_UBIGINT: return SP_T_UINT64;
    case DUCKDB_TYPE_HUGEINT: return SP_T_INT128;
    case DUCKDB_TYPE_UHUGEINT: return SP_T_UINT128;
    case DUCKDB_TYPE_FLOAT: return SP_T_FLOAT32;
    case DUCKDB_TYPE_DOUBLE: return SP_T_FLOAT64;
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_BLOB:
    case DUCKDB_TYPE_ENUM:
    case DUCKDB_TYPE_TIME:
    case DUCKDB_TYPE_TIME_NS: return SP_T_STRING;
    case DUCKDB_TYPE_UUID: return SP_T_UUID;
    case DUCKDB_TYPE_DATE: return SP_T_DATE;
    case DUCKDB_TYPE_TIMESTAMP_S: return SP_T_DATETIME;
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_NS:
    case DUCKDB_TYPE_TIMESTAMP_TZ: return SP_T_DATETIME64;
    case DUCKDB_TYPE_SQLNULL: return SP_T_NOTHING;
    default: return (sp_kind)-1;
    }
}

static const char *duck_type_name(duckdb_type id)
{
    switch (id) {
    case DUCKDB_TYPE_BIT: return "BIT";
    case DUCKDB_TYPE_UNION: return "UNION";
    case DUCKDB_TYPE_BIGNUM: return "BIGNUM";
    case DUCKDB_TYPE_TIME_TZ: return "TIME WITH TIME ZONE";
    default: return "this";
    }
}

static int to_sptype(duckdb_logical_type lt, const char *col, int depth, sp_type **out,
                     sp_error *err);

static int child_type(duckdb_logical_type parent_child, const char *col, int depth,
                      sp_type **out, sp_error *err)
{
    int rc = to_sptype(parent_child, col, depth + 1, out, err);
    duckdb_destroy_logical_type(&parent_child);
    return rc;
}

static int to_sptype(duckdb_logical_type lt, const char *col, int depth, sp_type **out,
                     sp_error *err)
{
    *out = NULL;
    duckdb_type id = duckdb_get_type_id(lt);
    sp_type *t = NULL;
    int rc = 0;
    if (depth > 32)
        return sp_error_set(err, SP_EUNSUPPORTED, 0, "column '%s': type nested too deeply",
                            col);
    switch (id) {
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY:
        t = sp_type_new(SP_T_ARRAY);
        if (!t)
            break;
        rc = child_type(id == DUCKDB_TYPE_LIST ? duckdb_list_type_child_type(lt)
                                               : duckdb_array_type_child_type(lt),
                        col, depth, &t->elem, err);
        break;
    case DUCKDB_TYPE_MAP:
        t = sp_type_new(SP_T_MAP);
        if (!t)
            break;
        rc = child_type(duckdb_map_type_key_type(lt), col, depth, &t->key, err);
        if (!rc)
            rc = child_type(duckdb_map_type_value_type(lt), col, depth, &t->elem, err);
        if (!rc && t->key)
            t->key->nullable = 0; /* ClickHouse map keys are never Nullable */
        break;
    case DUCKDB_TYPE_STRUCT: {
        size_t n = (size_t)duckdb_struct_type_child_count(lt);
        t = sp_type_new(SP_T_TUPLE);
        if (!t)
            break;
        t->elems = calloc(n ? n : 1, sizeof *t->elems);
        t->names = calloc(n ? n : 1, sizeof *t->names);
        if (!t->elems || !t->names) {
            rc = SP_ENOMEM;
            break;
        }
        t->nelems = n;
        for (size_t i = 0; i < n && !rc; i++) {
            char *nm = duckdb_struct_type_child_name(lt, i);
            if (nm) {
                t->names[i] = strdup(nm);
                duckdb_free(nm);
                if (!t->names[i]) {
                    rc = SP_ENOMEM;
                    break;
                }
            }
            rc = child_type(duckdb_struct_type_child_type(lt, i), col, depth, &t->elems[i],
                            err);
        }
        break;
    }
    case DUCKDB_TYPE_DECIMAL:
        t = sp_type_new(SP_T_DECIMAL);
        if (t) {
            t->precision = duckdb_decimal_width(lt);
            t->scale = duckdb_decimal_scale(lt);
        }
        break;
    default: {
        sp_kind k = simple_kind(id);
        if ((int)k < 0)
            return sp_error_set(err, SP_EUNSUPPORTED, 0,
                                "column '%s': duckdb type %s is not supported in results "
                                "(cast it, e.g. to VARCHAR)",
                                col, duck_type_name(id));
        if (id == DUCKDB_TYPE_VARCHAR) {
            char *alias = duckdb_logical_type_get_alias(lt);
            if (alias && !strcmp(alias, "JSON"))
                k = SP_T_JSON;
            duckdb_free(alias);
        }
        t = sp_type_new(k);
        if (!t)
            break;
        if (k == SP_T_DATETIME64)
            t->scale = id == DUCKDB_TYPE_TIMESTAMP_MS ? 3 : id == DUCKDB_TYPE_TIMESTAMP_NS ? 9 : 6;
        t->nullable = 1; /* DuckDB does not tell: every scalar may be NULL */
        break;
    }
    }
    if (!t)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    if (rc) {
        sp_type_free(t);
        if (rc == SP_ENOMEM)
            sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        return rc;
    }
    *out = t;
    return 0;
}

int sp__duck_to_sptype(duckdb_logical_type lt, const char *col, sp_type **out, sp_error *err)
{
    return to_sptype(lt, col, 0, out, err);
}

/* ------------------------------------------------------------ reader */

typedef enum conv_kind {
    CV_I64_DIRECT, CV_U64_DIRECT, CV_F64_DIRECT,
    CV_I8, CV_I16, CV_I32, CV_U8, CV_U16, CV_U32, CV_BOOL, CV_F32, CV_DATE,
    CV_INTERVAL, CV_STR, CV_ENUM, CV_HUGE, CV_UHUGE, CV_DEC, CV_UUID, CV_TIME,
    CV_TIME_NS, CV_NULL, CV_LIST, CV_ARRAY, CV_MAP, CV_STRUCT
} conv_kind;

struct sp__dnode {
    conv_kind cv;
    const sp_type *type;
    duckdb_type dec_phys; /* DECIMAL internal type */
    int scale;
    duckdb_type enum_phys;
    char **dict; /* ENUM dictionary */
    size_t ndict;
    size_t array_size; /* ARRAY */
    duckdb_logical_type child_lt; /* LIST/MAP: the list child type, for gathering */
    duckdb_vector gathered;       /* compacted LIST child of the current chunk */
    void *scratch;
    size_t scratch_cap; /* bytes */
    uint8_t *nulls;
    size_t nulls_cap;
    uint64_t *offs;
    size_t offs_cap;
    char *text;
    size_t text_cap;
    sp_str *strs;
    size_t strs_cap;
    sp__dnode *kids;
    size_t nkids;
    sp_column *kidcols;
};

static int grow(void **p, size_t *cap, size_t need, sp_error *err)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 4096;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*p, nc);
    if (!q)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    *p = q;
    *cap = nc;
    return 0;
}

static void node_release(sp__dnode *nd)
{
    for (size_t i = 0; i < nd->nkids; i++)
        node_release(&nd->kids[i]);
    free(nd->kids);
    free(nd->kidcols);
    for (size_t i = 0; i < nd->ndict; i++)
        free(nd->dict[i]);
    free(nd->dict);
    if (nd->gathered)
        duckdb_destroy_vector(&nd->gathered);
    if (nd->child_lt)
        duckdb_destroy_logical_type(&nd->child_lt);
    free(nd->scratch);
    free(nd->nulls);
    free(nd->offs);
    free(nd->text);
    free(nd->strs);
    memset(nd, 0, sizeof *nd);
}

static int node_init(sp__dnode *nd, duckdb_logical_type lt, const sp_type *t, sp_error *err);

static int node_kids(sp__dnode *nd, size_t n, sp_error *err)
{
    nd->kids = calloc(n ? n : 1, sizeof *nd->kids);
    nd->kidcols = calloc(n ? n : 1, sizeof *nd->kidcols);
    if (!nd->kids || !nd->kidcols)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    nd->nkids = n;
    return 0;
}

static int node_init(sp__dnode *nd, duckdb_logical_type lt, const sp_type *t, sp_error *err)
{
    memset(nd, 0, sizeof *nd);
    nd->type = t;
    duckdb_type id = duckdb_get_type_id(lt);
    int rc = 0;
    switch (id) {
    case DUCKDB_TYPE_BIGINT: nd->cv = CV_I64_DIRECT; break;
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS:
    case DUCKDB_TYPE_TIMESTAMP_TZ: nd->cv = CV_I64_DIRECT; break;
    case DUCKDB_TYPE_UBIGINT: nd->cv = CV_U64_DIRECT; break;
    case DUCKDB_TYPE_DOUBLE: nd->cv = CV_F64_DIRECT; break;
    case DUCKDB_TYPE_TINYINT: nd->cv = CV_I8; break;
    case DUCKDB_TYPE_SMALLINT: nd->cv = CV_I16; break;
    case DUCKDB_TYPE_INTEGER: nd->cv = CV_I32; break;
    case DUCKDB_TYPE_UTINYINT: nd->cv = CV_U8; break;
    case DUCKDB_TYPE_USMALLINT: nd->cv = CV_U16; break;
    case DUCKDB_TYPE_UINTEGER: nd->cv = CV_U32; break;
    case DUCKDB_TYPE_BOOLEAN: nd->cv = CV_BOOL; break;
    case DUCKDB_TYPE_FLOAT: nd->cv = CV_F32; break;
    case DUCKDB_TYPE_DATE: nd->cv = CV_DATE; break;
    case DUCKDB_TYPE_INTERVAL: nd->cv = CV_INTERVAL; break;
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_BLOB: nd->cv = CV_STR; break;
    case DUCKDB_TYPE_HUGEINT: nd->cv = CV_HUGE; break;
    case DUCKDB_TYPE_UHUGEINT: nd->cv = CV_UHUGE; break;
    case DUCKDB_TYPE_UUID: nd->cv = CV_UUID; break;
    case DUCKDB_TYPE_TIME: nd->cv = CV_TIME; break;
    case DUCKDB_TYPE_TIME_NS: nd->cv = CV_TIME_NS; break;
    case DUCKDB_TYPE_SQLNULL: nd->cv = CV_NULL; break;
    case DUCKDB_TYPE_DECIMAL:
        nd->cv = CV_DEC;
        nd->dec_phys = duckdb_decimal_internal_type(lt);
        nd->scale = duckdb_decimal_scale(lt);
        break;
    case DUCKDB_TYPE_ENUM: {
        nd->cv = CV_ENUM;
        nd->enum_phys = duckdb_enum_internal_type(lt);
        size_t n = duckdb_enum_dictionary_size(lt);
        nd->dict = calloc(n ? n : 1, sizeof *nd->dict);
        if (!nd->dict)
            return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        nd->ndict = n;
        for (size_t i = 0; i < n; i++) {
            char *v = duckdb_enum_dictionary_value(lt, i);
            nd->dict[i] = strdup(v ? v : "");
            duckdb_free(v);
            if (!nd->dict[i])
                return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        }
        break;
    }
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY: {
        nd->cv = id == DUCKDB_TYPE_LIST ? CV_LIST : CV_ARRAY;
        duckdb_logical_type c = id == DUCKDB_TYPE_LIST ? duckdb_list_type_child_type(lt)
                                                       : duckdb_array_type_child_type(lt);
        if (id == DUCKDB_TYPE_ARRAY)
            nd->array_size = duckdb_array_type_array_size(lt);
        rc = node_kids(nd, 1, err);
        if (!rc)
            rc = node_init(&nd->kids[0], c, t->elem, err);
        if (id == DUCKDB_TYPE_LIST)
            nd->child_lt = c;
        else
            duckdb_destroy_logical_type(&c);
        break;
    }
    case DUCKDB_TYPE_MAP: {
        nd->cv = CV_MAP;
        nd->child_lt = duckdb_list_type_child_type(lt); /* STRUCT(key, value) */
        rc = node_kids(nd, 2, err);
        duckdb_logical_type k = duckdb_map_type_key_type(lt);
        duckdb_logical_type v = duckdb_map_type_value_type(lt);
        if (!rc)
            rc = node_init(&nd->kids[0], k, t->key, err);
        if (!rc)
            rc = node_init(&nd->kids[1], v, t->elem, err);
        duckdb_destroy_logical_type(&k);
        duckdb_destroy_logical_type(&v);
        break;
    }
    case DUCKDB_TYPE_STRUCT: {
        nd->cv = CV_STRUCT;
        size_t n = (size_t)duckdb_struct_type_child_count(lt);
        rc = node_kids(nd, n, err);
        for (size_t i = 0; i < n && !rc; i++) {
            duckdb_logical_type c = duckdb_struct_type_child_type(lt, i);
            rc = node_init(&nd->kids[i], c, t->elems[i], err);
            duckdb_destroy_logical_type(&c);
        }
        break;
    }
    default:
        return sp_error_set(err, SP_EUNSUPPORTED, 0, "duckdb type %s is not supported",
                            duck_type_name(id));
    }
    return rc;
}

int sp__dreader_init(sp__dreader *r, duckdb_logical_type *types, const sp_schema *s,
                     sp_error *err)
{
    memset(r, 0, sizeof *r);
    r->nodes = calloc(s->ncols ? s->ncols : 1, sizeof *r->nodes);
    r->cols = calloc(s->ncols ? s->ncols : 1, sizeof *r->cols);
    if (!r->nodes || !r->cols) {
        free(r->nodes);
        free(r->cols);
        memset(r, 0, sizeof *r);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    }
    r->ncols = s->ncols;
    for (size_t i = 0; i < s->ncols; i++) {
        int rc = node_init(&r->nodes[i], types[i], s->types[i], err);
        if (rc) {
            sp_error_prefix(err, "column '%s'", s->names[i]);
            sp__dreader_release(r);
            return rc;
        }
    }
    return 0;
}

void sp__dreader_release(sp__dreader *r)
{
    for (size_t i = 0; i < r->ncols; i++)
        node_release(&r->nodes[i]);
    free(r->nodes);
    free(r->cols);
    memset(r, 0, sizeof *r);
}

static int conv_vec(sp__dnode *nd, duckdb_vector v, size_t n, sp_column *out, sp_error *err);

/* nulls from the validity mask; NULL when every row is valid */
static int conv_nulls(sp__dnode *nd, duckdb_vector v, size_t n, sp_column *out, sp_error *err)
{
    out->nulls = NULL;
    uint64_t *val = duckdb_vector_get_validity(v);
    if (!val)
        return 0;
    size_t words = (n + 63) / 64;
    int any = 0;
    for (size_t w = 0; w < words && !any; w++) {
        uint64_t m = val[w];
        if (w == words - 1 && n % 64)
            m |= ~(uint64_t)0 << (n % 64);
        any = m != ~(uint64_t)0;
    }
    if (!any)
        return 0;
    int rc = grow((void **)&nd->nulls, &nd->nulls_cap, n, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++)
        nd->nulls[i] = !((val[i / 64] >> (i % 64)) & 1);
    out->nulls = nd->nulls;
    return 0;
}

#define WIDEN(ctype, field, dst_t)                                               \
    do {                                                                         \
        rc = grow(&nd->scratch, &nd->scratch_cap, n * 8 + 8, err);               \
        if (rc)                                                                  \
            return rc;                                                           \
        const ctype *src = data;                                                 \
        dst_t *dst = nd->scratch;                                                \
        for (size_t i = 0; i < n; i++)                                           \
            dst[i] = (dst_t)src[i];                                              \
        out->v.field = dst;                                                      \
    } while (0)

static int want_text(sp__dnode *nd, size_t n, size_t per, sp_error *err)
{
    int rc = grow((void **)&nd->text, &nd->text_cap, n * per + 1, err);
    if (!rc)
        rc = grow((void **)&nd->strs, &nd->strs_cap, (n + 1) * sizeof(sp_str), err);
    return rc;
}

static size_t time_text(int64_t t, int64_t per_sec, int digits, char *buf)
{
    int64_t secs = t / per_sec, frac = t % per_sec;
    int len = snprintf(buf, 32, "%02d:%02d:%02d", (int)(secs / 3600), (int)(secs / 60 % 60),
                       (int)(secs % 60));
    if (frac)
        len += snprintf(buf + len, 32 - (size_t)len, ".%0*lld", digits, (long long)frac);
    return (size_t)len;
}

/* LIST/MAP: entries -> offsets; gathers the child into a compact vector when
 * the entries are not contiguous; child_out, child_n: the vector to convert */
static int conv_list_offsets(sp__dnode *nd, duckdb_vector v, size_t n, const uint8_t *nulls,
                             duckdb_vector *child_out, size_t *child_n, sp_error *err)
{
    const duckdb_list_entry *e = duckdb_vector_get_data(v);
    duckdb_vector child = duckdb_list_vector_get_child(v);
    int rc = grow((void **)&nd->offs, &nd->offs_cap, (n + 1) * sizeof(uint64_t), err);
    if (rc)
        return rc;
    if (nd->gathered)
        duckdb_destroy_vector(&nd->gathered);
    uint64_t start = 0, expect = 0, total = 0;
    int first = 1, contiguous = 1;
    for (size_t i = 0; i < n; i++) {
        if (nulls && nulls[i])
            continue;
        if (first) {
            start = expect = e[i].offset;
            first = 0;
        }
        if (e[i].offset != expect)
            contiguous = 0;
        expect = e[i].offset + e[i].length;
        total += e[i].length;
    }
    if (contiguous) {
        uint64_t pos = start;
        for (size_t i = 0; i < n; i++) {
            nd->offs[i] = pos;
            if (!(nulls && nulls[i]))
                pos += e[i].length;
        }
        nd->offs[n] = pos;
        *child_out = child;
        *child_n = (size_t)pos;
        return 0;
    }
    /* gather: copy the selected child rows into a fresh vector */
    duckdb_selection_vector sel = duckdb_create_selection_vector(total ? total : 1);
    nd->gathered = duckdb_create_vector(nd->child_lt, total ? total : 1);
    if (!sel || !nd->gathered) {
        if (sel)
            duckdb_destroy_selection_vector(sel);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    }
    sel_t *s = duckdb_selection_vector_get_data_ptr(sel);
    uint64_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        nd->offs[i] = pos;
        if (nulls && nulls[i])
            continue;
        for (uint64_t k = 0; k < e[i].length; k++)
            s[pos++] = (sel_t)(e[i].offset + k);
    }
    nd->offs[n] = pos;
    duckdb_vector_copy_sel(child, nd->gathered, sel, total, 0, 0);
    duckdb_destroy_selection_vector(sel);
    *child_out = nd->gathered;
    *child_n = (size_t)total;
    return 0;
}

static int conv_vec(sp__dnode *nd, duckdb_vector v, size_t n, sp_column *out, sp_error *err)
{
    memset(out, 0, sizeof *out);
    out->type = nd->type;
    int rc = conv_nulls(nd, v, n, out, err);
    if (rc)
        return rc;
    const void *data = duckdb_vector_get_data(v);
    switch (nd->cv) {
    case CV_I64_DIRECT: out->v.i64 = data; break;
    case CV_U64_DIRECT: out->v.u64 = data; break;
    case CV_F64_DIRECT: out->v.f64 = data; break;
    case CV_I8: WIDEN(int8_t, i64, int64_t); break;
    case CV_I16: WIDEN(int16_t, i64, int64_t); break;
    case CV_I32: WIDEN(int32_t, i64, int64_t); break;
    case CV_DATE: WIDEN(int32_t, i64, int64_t); break;
    case CV_U8: WIDEN(uint8_t, u64, uint64_t); break;
    case CV_U16: WIDEN(uint16_t, u64, uint64_t); break;
    case CV_U32: WIDEN(uint32_t, u64, uint64_t); break;
    case CV_BOOL: WIDEN(bool, u64, uint64_t); break;
    case CV_F32: WIDEN(float, f64, double); break;
    case CV_INTERVAL: {
        rc = grow(&nd->scratch, &nd->scratch_cap, n * 8 + 8, err);
        if (rc)
            return rc;
        const duckdb_interval *src = data;
        int64_t *dst = nd->scratch;
        for (size_t i = 0; i < n; i++)
            dst[i] = (int64_t)src[i].months * 30 * 86400 + (int64_t)src[i].days * 86400 +
                     src[i].micros / 1000000;
        out->v.i64 = dst;
        break;
    }
    case CV_STR: {
        rc = grow((void **)&nd->strs, &nd->strs_cap, (n + 1) * sizeof(sp_str), err);
        if (rc)
            return rc;
        const duckdb_string_t *src = data;
        for (size_t i = 0; i < n; i++) {
            uint32_t len = src[i].value.inlined.length;
            if (out->nulls && out->nulls[i])
                nd->strs[i] = (sp_str){ "", 0 };
            else if (len <= 12)
                nd->strs[i] = (sp_str){ src[i].value.inlined.inlined, len };
            else
                nd->strs[i] = (sp_str){ src[i].value.pointer.ptr, len };
        }
        out->v.str = nd->strs;
        break;
    }
    case CV_ENUM: {
        rc = grow((void **)&nd->strs, &nd->strs_cap, (n + 1) * sizeof(sp_str), err);
        if (rc)
            return rc;
        for (size_t i = 0; i < n; i++) {
            uint64_t k = nd->enum_phys == DUCKDB_TYPE_UTINYINT    ? ((const uint8_t *)data)[i]
                         : nd->enum_phys == DUCKDB_TYPE_USMALLINT ? ((const uint16_t *)data)[i]
                                                                  : ((const uint32_t *)data)[i];
            if ((out->nulls && out->nulls[i]) || k >= nd->ndict)
                nd->strs[i] = (sp_str){ "", 0 };
            else
                nd->strs[i] = (sp_str){ nd->dict[k], strlen(nd->dict[k]) };
        }
        out->v.str = nd->strs;
        break;
    }
    case CV_HUGE:
    case CV_UHUGE:
    case CV_DEC:
    case CV_UUID:
    case CV_TIME:
    case CV_TIME_NS: {
        rc = want_text(nd, n, 48, err);
        if (rc)
            return rc;
        for (size_t i = 0; i < n; i++) {
            char *b = nd->text + i * 48;
            size_t len = 0;
            if (out->nulls && out->nulls[i]) {
                nd->strs[i] = (sp_str){ "", 0 };
                continue;
            }
            if (nd->cv == CV_HUGE) {
                const duckdb_hugeint *h = (const duckdb_hugeint *)data + i;
                len = sp__duck_i128_text((__int128)(((unsigned __int128)(uint64_t)h->upper << 64) |
                                                    h->lower),
                                         0, b);
            } else if (nd->cv == CV_UHUGE) {
                const duckdb_uhugeint *h = (const duckdb_uhugeint *)data + i;
                len = sp__duck_u128_text(((unsigned __int128)h->upper << 64) | h->lower, b);
            } else if (nd->cv == CV_UUID) {
                const duckdb_hugeint *h = (const duckdb_hugeint *)data + i;
                uint64_t hi = (uint64_t)h->upper ^ ((uint64_t)1 << 63), lo = h->lower;
                len = (size_t)snprintf(b, 48, "%08x-%04x-%04x-%04x-%012llx",
                                       (unsigned)(hi >> 32), (unsigned)((hi >> 16) & 0xffff),
                                       (unsigned)(hi & 0xffff), (unsigned)(lo >> 48),
                                       (unsigned long long)(lo & 0xffffffffffffULL));
            } else if (nd->cv == CV_TIME) {
                len = time_text(((const int64_t *)data)[i], 1000000, 6, b);
            } else if (nd->cv == CV_TIME_NS) {
                len = time_text(((const int64_t *)data)[i], 1000000000, 9, b);
            } else {
                __int128 x;
                switch (nd->dec_phys) {
                case DUCKDB_TYPE_SMALLINT: x = ((const int16_t *)data)[i]; break;
                case DUCKDB_TYPE_INTEGER: x = ((const int32_t *)data)[i]; break;
                case DUCKDB_TYPE_BIGINT: x = ((const int64_t *)data)[i]; break;
                default: {
                    const duckdb_hugeint *h = (const duckdb_hugeint *)data + i;
                    x = (__int128)(((unsigned __int128)(uint64_t)h->upper << 64) | h->lower);
                }
                }
                len = sp__duck_i128_text(x, nd->scale, b);
            }
            nd->strs[i] = (sp_str){ b, len };
        }
        out->v.str = nd->strs;
        break;
    }
    case CV_NULL:
        rc = grow((void **)&nd->nulls, &nd->nulls_cap, n + 1, err);
        if (rc)
            return rc;
        memset(nd->nulls, 1, n);
        out->nulls = nd->nulls;
        break;
    case CV_LIST:
    case CV_MAP: {
        duckdb_vector child = NULL;
        size_t cn = 0;
        rc = conv_list_offsets(nd, v, n, out->nulls, &child, &cn, err);
        if (rc)
            return rc;
        out->offsets = nd->offs;
        out->child = nd->kidcols;
        out->nchild = nd->nkids;
        if (nd->cv == CV_LIST)
            return conv_vec(&nd->kids[0], child, cn, &nd->kidcols[0], err);
        rc = conv_vec(&nd->kids[0], duckdb_struct_vector_get_child(child, 0), cn,
                      &nd->kidcols[0], err);
        if (!rc)
            rc = conv_vec(&nd->kids[1], duckdb_struct_vector_get_child(child, 1), cn,
                          &nd->kidcols[1], err);
        return rc;
    }
    case CV_ARRAY: {
        rc = grow((void **)&nd->offs, &nd->offs_cap, (n + 1) * sizeof(uint64_t), err);
        if (rc)
            return rc;
        for (size_t i = 0; i <= n; i++)
            nd->offs[i] = (uint64_t)i * nd->array_size;
        out->offsets = nd->offs;
        out->child = nd->kidcols;
        out->nchild = 1;
        return conv_vec(&nd->kids[0], duckdb_array_vector_get_child(v), n * nd->array_size,
                        &nd->kidcols[0], err);
    }
    case CV_STRUCT:
        out->child = nd->kidcols;
        out->nchild = nd->nkids;
        for (size_t i = 0; i < nd->nkids && !rc; i++)
            rc = conv_vec(&nd->kids[i], duckdb_struct_vector_get_child(v, i), n,
                          &nd->kidcols[i], err);
        return rc;
    }
    return 0;
}

int sp__dreader_convert(sp__dreader *r, duckdb_data_chunk ch, sp_batch *out, sp_error *err)
{
    size_t n = (size_t)duckdb_data_chunk_get_size(ch);
    for (size_t i = 0; i < r->ncols; i++) {
        int rc = conv_vec(&r->nodes[i], duckdb_data_chunk_get_vector(ch, i), n, &r->cols[i], err);
        if (rc)
            return rc;
    }
    out->nrows = n;
    out->ncols = r->ncols;
    out->cols = r->cols;
    return 0;
}
