/* sp_duck_append: sp_batch rows -> DuckDB data chunks, and ClickHouse types
 * -> DuckDB type text (see sp_duck_conv.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_ascii.h"
#include "sp_duck_conv.h"
#include "sp_error.h"
#include "sp_sql.h"

/* ------------------------------------------------------------ type text */

static int type_text(const sp_type *t, int json_ok, const char *col, int depth, sp_buf *out,
                     sp_error *err)
{
    const char *s = NULL;
    if (depth > 32)
        return sp_error_set(err, SP_EDEF, 0, "column '%s': type nested too deeply", col);
    switch (t->kind) {
    case SP_T_BOOL: s = "BOOLEAN"; break;
    case SP_T_INT8: s = "TINYINT"; break;
    case SP_T_INT16: s = "SMALLINT"; break;
    case SP_T_INT32: s = "INTEGER"; break;
    case SP_T_INT64: s = "BIGINT"; break;
    case SP_T_INT128: s = "HUGEINT"; break;
    case SP_T_UINT8: s = "UTINYINT"; break;
    case SP_T_UINT16: s = "USMALLINT"; break;
    case SP_T_UINT32: s = "UINTEGER"; break;
    case SP_T_UINT64: s = "UBIGINT"; break;
    case SP_T_UINT128: s = "UHUGEINT"; break;
    case SP_T_INT256:
    case SP_T_UINT256: s = "VARCHAR"; break; /* decimal text */
    case SP_T_FLOAT32: s = "FLOAT"; break;
    case SP_T_FLOAT64: s = "DOUBLE"; break;
    case SP_T_STRING:
    case SP_T_FIXEDSTRING:
    case SP_T_IPV4:
    case SP_T_IPV6:
    case SP_T_ENUM8:
    case SP_T_ENUM16: s = "VARCHAR"; break;
    case SP_T_UUID: s = "UUID"; break;
    case SP_T_DATE:
    case SP_T_DATE32: s = "DATE"; break;
    case SP_T_DATETIME: s = "TIMESTAMP_S"; break;
    case SP_T_DATETIME64:
        s = t->scale <= 3 ? "TIMESTAMP_MS" : t->scale <= 6 ? "TIMESTAMP" : "TIMESTAMP_NS";
        if (t->scale < 0 || t->scale > 9)
            return sp_error_set(err, SP_EDEF, 0,
                                "column '%s': DateTime64 precision %d is out of range (0..9)",
                                col, t->scale);
        break;
    case SP_T_JSON: s = json_ok ? "JSON" : "VARCHAR"; break;
    case SP_T_DECIMAL:
        if (t->precision < 1 || t->precision > 38 || t->scale < 0 || t->scale > t->precision)
            return sp_error_set(err, SP_EDEF, 0,
                                "column '%s': Decimal(%d, %d) is not supported (precision "
                                "1..38, scale 0..precision)",
                                col, t->precision, t->scale);
        return sp_buf_addf(out, err, "DECIMAL(%d,%d)", t->precision, t->scale);
    case SP_T_ARRAY: {
        if (!t->elem)
            return sp_error_set(err, SP_EDEF, 0, "column '%s': Array without element type", col);
        int rc = type_text(t->elem, json_ok, col, depth + 1, out, err);
        return rc ? rc : sp_buf_adds(out, "[]", err);
    }
    case SP_T_MAP: {
        if (!t->key || !t->elem)
            return sp_error_set(err, SP_EDEF, 0, "column '%s': Map needs key and value types",
                                col);
        int rc = sp_buf_adds(out, "MAP(", err);
        if (!rc)
            rc = type_text(t->key, json_ok, col, depth + 1, out, err);
        if (!rc)
            rc = sp_buf_adds(out, ", ", err);
        if (!rc)
            rc = type_text(t->elem, json_ok, col, depth + 1, out, err);
        return rc ? rc : sp_buf_addch(out, ')', err);
    }
    case SP_T_TUPLE: {
        if (t->nelems == 0)
            return sp_error_set(err, SP_EDEF, 0, "column '%s': empty Tuple", col);
        int rc = sp_buf_adds(out, "STRUCT(", err);
        for (size_t i = 0; !rc && i < t->nelems; i++) {
            if (i)
                rc = sp_buf_adds(out, ", ", err);
            if (!rc && t->names && t->names[i]) {
                rc = sp_sql_quote_ident(out, t->names[i], err);
            } else if (!rc) {
                char nm[24];
                snprintf(nm, sizeof nm, "%zu", i + 1);
                rc = sp_sql_quote_ident(out, nm, err);
            }
            if (!rc)
                rc = sp_buf_addch(out, ' ', err);
            if (!rc)
                rc = type_text(t->elems[i], json_ok, col, depth + 1, out, err);
        }
        return rc ? rc : sp_buf_addch(out, ')', err);
    }
    case SP_T_NOTHING:
        return sp_error_set(err, SP_EDEF, 0, "column '%s': type Nothing cannot be stored", col);
    }
    if (!s)
        return sp_error_set(err, SP_EDEF, 0, "column '%s': unknown type", col);
    return sp_buf_adds(out, s, err);
}

int sp__duck_type_text(const sp_type *t, int json_ok, const char *col, sp_buf *out,
                       sp_error *err)
{
    return type_text(t, json_ok, col, 0, out, err);
}

/* ------------------------------------------------------------ parsing */

int sp__duck_parse_decimal(const char *p, size_t n, int scale, __int128 *out)
{
    size_t i = 0;
    int neg = 0;
    if (i < n && (p[i] == '-' || p[i] == '+'))
        neg = p[i++] == '-';
    const __int128 lim = (__int128)1e19 * (__int128)1e19; /* 10^38 */
    __int128 v = 0;
    int nd = 0, fd = 0, seen_dot = 0;
    for (; i < n; i++) {
        char c = p[i];
        if (c == '.' && !seen_dot) {
            seen_dot = 1;
            continue;
        }
        if (c < '0' || c > '9')
            return -1;
        nd++;
        if (seen_dot) {
            if (fd >= scale)
                continue; /* truncate extra fraction digits */
            fd++;
        }
        v = v * 10 + (c - '0');
        if (v >= lim)
            return -1;
    }
    if (nd == 0)
        return -1;
    for (; fd < scale; fd++) {
        v *= 10;
        if (v >= lim)
            return -1;
    }
    *out = neg ? -v : v;
    return 0;
}

int sp__duck_parse_uuid(const char *p, size_t n, unsigned __int128 *out)
{
    unsigned __int128 v = 0;
    int nd = 0;
    size_t i = 0;
    if (n >= 2 && p[0] == '{' && p[n - 1] == '}')
        i = 1, n--;
    for (; i < n; i++) {
        if (p[i] == '-')
            continue;
        int h = sp_hexval(p[i]);
        if (h < 0 || nd == 32)
            return -1;
        v = (v << 4) | (unsigned)h;
        nd++;
    }
    if (nd != 32)
        return -1;
    *out = v;
    return 0;
}

/* ------------------------------------------------------------ values */

enum { ST_I64, ST_U64, ST_F64, ST_STR };

static int storage(sp_kind k)
{
    switch (k) {
    case SP_T_BOOL:
    case SP_T_UINT8:
    case SP_T_UINT16:
    case SP_T_UINT32:
    case SP_T_UINT64: return ST_U64;
    case SP_T_INT8:
    case SP_T_INT16:
    case SP_T_INT32:
    case SP_T_INT64:
    case SP_T_DATE:
    case SP_T_DATE32:
    case SP_T_DATETIME:
    case SP_T_DATETIME64: return ST_I64;
    case SP_T_FLOAT32:
    case SP_T_FLOAT64: return ST_F64;
    default: return ST_STR;
    }
}

static int parse_i128(const char *p, size_t n, int is_unsigned, unsigned __int128 *mag,
                      int *neg)
{
    size_t i = 0;
    *neg = 0;
    if (i < n && (p[i] == '-' || p[i] == '+'))
        *neg = p[i++] == '-';
    if (i == n)
        return -1;
    unsigned __int128 v = 0, max = ~(unsigned __int128)0;
    if (!is_unsigned)
        max = ((unsigned __int128)1 << 127) - (*neg ? 0 : 1);
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (is_unsigned && *neg && v)
        return -1;
    *mag = v;
    return 0;
}

static int64_t pow10i(int e)
{
    int64_t r = 1;
    while (e-- > 0)
        r *= 10;
    return r;
}

static int bad_value(sp_error *err, const char *what, const sp_column *c, size_t r)
{
    if (storage(c->type->kind) == ST_STR)
        return sp_error_set(err, SP_EDATA, 0, "'%.*s' is not a valid %s",
                            (int)(c->v.str[r].n > 64 ? 64 : c->v.str[r].n), c->v.str[r].p,
                            what);
    return sp_error_set(err, SP_EDATA, 0, "value out of range for %s", what);
}

static int fill_vec(duckdb_vector v, const sp_column *c, size_t from, size_t n, size_t dst,
                    sp_error *err);

static void set_validity(duckdb_vector v, const sp_column *c, size_t from, size_t n,
                         size_t dst)
{
    uint64_t *val = duckdb_vector_get_validity(v);
    if (c->nulls && !val) {
        duckdb_vector_ensure_validity_writable(v);
        val = duckdb_vector_get_validity(v);
    }
    if (!val)
        return;
    for (size_t i = 0; i < n; i++)
        duckdb_validity_set_row_validity(val, dst + i, !(c->nulls && c->nulls[from + i]));
}

#define ISNULL(c, r) ((c)->nulls && (c)->nulls[r])

static int fill_list(duckdb_vector v, duckdb_type id, const sp_column *c, size_t from,
                     size_t n, size_t dst, sp_error *err)
{
    if (!c->offsets || c->nchild != (id == DUCKDB_TYPE_MAP ? 2u : 1u))
        return sp_error_set(err, SP_EINTERNAL, 0, "batch column is not an %s",
                            id == DUCKDB_TYPE_MAP ? "Map" : "Array");
    duckdb_list_entry *e = duckdb_vector_get_data(v);
    uint64_t base = duckdb_list_vector_get_size(v);
    uint64_t c0 = c->offsets[from], total = c->offsets[from + n] - c0;
    for (size_t i = 0; i < n; i++) {
        e[dst + i].offset = base + (c->offsets[from + i] - c0);
        e[dst + i].length = c->offsets[from + i + 1] - c->offsets[from + i];
    }
    if (duckdb_list_vector_reserve(v, base + total) != DuckDBSuccess)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    duckdb_vector child = duckdb_list_vector_get_child(v);
    int rc;
    if (id == DUCKDB_TYPE_MAP) {
        rc = fill_vec(duckdb_struct_vector_get_child(child, 0), &c->child[0], (size_t)c0,
                      (size_t)total, (size_t)base, err);
        if (!rc)
            rc = fill_vec(duckdb_struct_vector_get_child(child, 1), &c->child[1], (size_t)c0,
                          (size_t)total, (size_t)base, err);
    } else {
        rc = fill_vec(child, &c->child[0], (size_t)c0, (size_t)total, (size_t)base, err);
    }
    if (!rc && duckdb_list_vector_set_size(v, base + total) != DuckDBSuccess)
        rc = sp_error_set(err, SP_EINTERNAL, 0, "cannot set list size");
    return rc;
}

static int fill_vec(duckdb_vector v, const sp_column *c, size_t from, size_t n, size_t dst,
                    sp_error *err)
{
    duckdb_logical_type lt = duckdb_vector_get_column_type(v);
    duckdb_type id = duckdb_get_type_id(lt);
    int st = storage(c->type->kind);
    void *data = duckdb_vector_get_data(v);
    int rc = 0;
    set_validity(v, c, from, n, dst);
    switch (id) {
    case DUCKDB_TYPE_BOOLEAN:
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_UBIGINT: {
        if (st == ST_STR) {
            rc = sp_error_set(err, SP_EINTERNAL, 0, "batch column holds text for an integer");
            break;
        }
        for (size_t i = 0; i < n; i++) {
            size_t r = from + i, d = dst + i;
            int64_t x = st == ST_I64 ? c->v.i64[r]
                        : st == ST_U64 ? (int64_t)c->v.u64[r]
                                       : (int64_t)c->v.f64[r];
            if (ISNULL(c, r))
                x = 0;
            switch (id) {
            case DUCKDB_TYPE_BOOLEAN: ((bool *)data)[d] = x != 0; break;
            case DUCKDB_TYPE_TINYINT: ((int8_t *)data)[d] = (int8_t)x; break;
            case DUCKDB_TYPE_SMALLINT: ((int16_t *)data)[d] = (int16_t)x; break;
            case DUCKDB_TYPE_INTEGER: ((int32_t *)data)[d] = (int32_t)x; break;
            case DUCKDB_TYPE_BIGINT: ((int64_t *)data)[d] = x; break;
            case DUCKDB_TYPE_UTINYINT: ((uint8_t *)data)[d] = (uint8_t)x; break;
            case DUCKDB_TYPE_USMALLINT: ((uint16_t *)data)[d] = (uint16_t)x; break;
            case DUCKDB_TYPE_UINTEGER: ((uint32_t *)data)[d] = (uint32_t)x; break;
            default: ((uint64_t *)data)[d] = (uint64_t)x; break;
            }
        }
        break;
    }
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE:
        for (size_t i = 0; i < n; i++) {
            size_t r = from + i;
            double x = st == ST_F64   ? c->v.f64[r]
                       : st == ST_I64 ? (double)c->v.i64[r]
                       : st == ST_U64 ? (double)c->v.u64[r]
                                      : 0;
            if (id == DUCKDB_TYPE_FLOAT)
                ((float *)data)[dst + i] = (float)x;
            else
                ((double *)data)[dst + i] = x;
        }
        break;
    case DUCKDB_TYPE_DATE:
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_NS:
    case DUCKDB_TYPE_TIMESTAMP_TZ: {
        if (st != ST_I64) {
            rc = sp_error_set(err, SP_EINTERNAL, 0, "batch column is not a date/time");
            break;
        }
        sp_kind k = c->type->kind;
        int src = k == SP_T_DATETIME64 ? c->type->scale : 0; /* 10^-src seconds */
        int is_days = k == SP_T_DATE || k == SP_T_DATE32;
        int unit = id == DUCKDB_TYPE_TIMESTAMP_S    ? 0
                   : id == DUCKDB_TYPE_TIMESTAMP_MS ? 3
                   : id == DUCKDB_TYPE_TIMESTAMP_NS ? 9
                                                    : 6;
        for (size_t i = 0; i < n; i++) {
            size_t r = from + i;
            int64_t x = ISNULL(c, r) ? 0 : c->v.i64[r];
            if (id == DUCKDB_TYPE_DATE) {
                if (!is_days) { /* seconds/ticks -> days, floor */
                    int64_t per = 86400 * pow10i(src);
                    x = x >= 0 ? x / per : -((-x + per - 1) / per);
                }
                ((int32_t *)data)[dst + i] = (int32_t)x;
                continue;
            }
            if (is_days)
                x *= 86400 * pow10i(unit);
            else if (unit >= src)
                x *= pow10i(unit - src);
            else {
                int64_t per = pow10i(src - unit);
                x = x >= 0 ? x / per : -((-x + per - 1) / per);
            }
            ((int64_t *)data)[dst + i] = x;
        }
        break;
    }
    case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_UHUGEINT:
    case DUCKDB_TYPE_UUID:
    case DUCKDB_TYPE_DECIMAL: {
        duckdb_type phys = id == DUCKDB_TYPE_DECIMAL ? duckdb_decimal_internal_type(lt) : id;
        int scale = id == DUCKDB_TYPE_DECIMAL ? duckdb_decimal_scale(lt) : 0;
        int width = id == DUCKDB_TYPE_DECIMAL ? duckdb_decimal_width(lt) : 0;
        for (size_t i = 0; i < n && !rc; i++) {
            size_t r = from + i;
            unsigned __int128 u = 0;
            if (!ISNULL(c, r)) {
                int neg = 0, bad = 0;
                if (st == ST_STR) {
                    const char *p = c->v.str[r].p;
                    size_t len = c->v.str[r].n;
                    if (id == DUCKDB_TYPE_UUID) {
                        bad = sp__duck_parse_uuid(p, len, &u) != 0;
                        u ^= (unsigned __int128)1 << 127;
                    } else if (id == DUCKDB_TYPE_DECIMAL) {
                        __int128 s;
                        bad = sp__duck_parse_decimal(p, len, scale, &s) != 0;
                        u = (unsigned __int128)s;
                    } else {
                        bad = parse_i128(p, len, id == DUCKDB_TYPE_UHUGEINT, &u, &neg) != 0;
                        if (neg)
                            u = (unsigned __int128)0 - u;
                    }
                } else if (id == DUCKDB_TYPE_UUID) {
                    bad = 1;
                } else {
                    __int128 s = st == ST_I64 ? c->v.i64[r]
                                 : st == ST_U64 ? (__int128)c->v.u64[r]
                                                : (__int128)llround(c->v.f64[r] * (double)pow10i(scale));
                    if (st != ST_F64)
                        for (int k = 0; k < scale; k++)
                            s *= 10;
                    u = (unsigned __int128)s;
                }
                if (!bad && id == DUCKDB_TYPE_DECIMAL) {
                    __int128 s = (__int128)u, lim = 1;
                    for (int k = 0; k < width; k++)
                        lim *= 10;
                    bad = s >= lim || s <= -lim;
                }
                if (bad) {
                    char what[40];
                    if (id == DUCKDB_TYPE_DECIMAL)
                        snprintf(what, sizeof what, "Decimal(%d, %d)", width, scale);
                    else
                        snprintf(what, sizeof what, "%s",
                                 id == DUCKDB_TYPE_UUID      ? "UUID"
                                 : id == DUCKDB_TYPE_HUGEINT ? "Int128"
                                                             : "UInt128");
                    rc = bad_value(err, what, c, r);
                    break;
                }
            }
            size_t d = dst + i;
            switch (phys) {
            case DUCKDB_TYPE_SMALLINT: ((int16_t *)data)[d] = (int16_t)(__int128)u; break;
            case DUCKDB_TYPE_INTEGER: ((int32_t *)data)[d] = (int32_t)(__int128)u; break;
            case DUCKDB_TYPE_BIGINT: ((int64_t *)data)[d] = (int64_t)(__int128)u; break;
            default: {
                duckdb_hugeint *h = (duckdb_hugeint *)data + d;
                h->lower = (uint64_t)u;
                h->upper = (int64_t)(uint64_t)(u >> 64);
            }
            }
        }
        break;
    }
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_BLOB:
        for (size_t i = 0; i < n; i++) {
            size_t r = from + i;
            if (ISNULL(c, r))
                continue;
            if (st == ST_STR) {
                duckdb_vector_assign_string_element_len(v, dst + i, c->v.str[r].p,
                                                        c->v.str[r].n);
                continue;
            }
            char tmp[40];
            int len = st == ST_I64   ? snprintf(tmp, sizeof tmp, "%lld", (long long)c->v.i64[r])
                      : st == ST_U64 ? snprintf(tmp, sizeof tmp, "%llu",
                                                (unsigned long long)c->v.u64[r])
                                     : snprintf(tmp, sizeof tmp, "%.17g", c->v.f64[r]);
            duckdb_vector_assign_string_element_len(v, dst + i, tmp, (idx_t)len);
        }
        break;
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_MAP:
        rc = fill_list(v, id, c, from, n, dst, err);
        break;
    case DUCKDB_TYPE_STRUCT: {
        size_t nk = (size_t)duckdb_struct_type_child_count(lt);
        if (nk != c->nchild) {
            rc = sp_error_set(err, SP_EINTERNAL, 0, "batch tuple has %zu elements, table %zu",
                              c->nchild, nk);
            break;
        }
        for (size_t k = 0; k < nk && !rc; k++) {
            duckdb_vector cv = duckdb_struct_vector_get_child(v, k);
            rc = fill_vec(cv, &c->child[k], from, n, dst, err);
            if (!rc && c->nulls) { /* a NULL struct has NULL members */
                duckdb_vector_ensure_validity_writable(cv);
                uint64_t *val = duckdb_vector_get_validity(cv);
                for (size_t i = 0; i < n; i++)
                    if (c->nulls[from + i])
                        duckdb_validity_set_row_invalid(val, dst + i);
            }
        }
        break;
    }
    default:
        rc = sp_error_set(err, SP_EUNSUPPORTED, 0, "cannot append to a column of duckdb type %d",
                          (int)id);
    }
    duckdb_destroy_logical_type(&lt);
    return rc;
}

int sp__duck_fill_chunk(duckdb_data_chunk ch, const sp_schema *s, const sp_batch *b,
                        size_t from, size_t n, sp_error *err)
{
    size_t nc = (size_t)duckdb_data_chunk_get_column_count(ch);
    if (nc != b->ncols || nc != s->ncols)
        return sp_error_set(err, SP_EINTERNAL, 0, "batch has %zu columns, table %zu", b->ncols,
                            nc);
    for (size_t i = 0; i < nc; i++) {
        int rc = fill_vec(duckdb_data_chunk_get_vector(ch, i), &b->cols[i], from, n, 0, err);
        if (rc) {
            sp_error_prefix(err, "column '%s'", s->names[i]);
            return rc;
        }
    }
    duckdb_data_chunk_set_size(ch, n);
    return 0;
}
