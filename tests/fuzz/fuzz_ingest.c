/* fuzz_ingest: NDJSON and CSV ingestion into validated batches (sp_ingest_*)
 * against a fake engine that walks every batch it is given.
 *
 * Input: byte 0 picks the format (bit 0: CSV), the feed chunk size (bits
 * 1-3) and one of two fixed schemas (bit 4).  When the rest holds a NUL
 * byte, the part before it is the schema itself, one column per line as
 * `name|type|jsonpath|default` (so column types, jsonpaths and DEFAULTs are
 * fuzzed too), and the part after it is the data.  Invariant: every row
 * read is either appended or quarantined. */
#include "fuzz.h"

#include "sp_engine.h"
#include "sp_error.h"
#include "sp_ingest.h"

#define MAXC 16

typedef struct fake {
    sp_engine base;
    uint64_t rows, quarantined, sum;
} fake;

/* touch every value of row r of column c (so bad pointers trip ASan) */
static void walk(fake *f, const sp_column *c, size_t r, int depth)
{
    fz_check(depth < 64, "nesting too deep");
    if (c->nulls && c->nulls[r])
        return;
    switch (c->type->kind) {
    case SP_T_ARRAY:
    case SP_T_MAP:
        fz_check(c->offsets[r] <= c->offsets[r + 1], "offsets decrease at row %zu", r);
        for (uint64_t i = c->offsets[r]; i < c->offsets[r + 1]; i++)
            for (size_t k = 0; k < (c->type->kind == SP_T_MAP ? 2u : 1u); k++)
                walk(f, &c->child[k], (size_t)i, depth + 1);
        break;
    case SP_T_TUPLE:
        for (size_t k = 0; k < c->nchild; k++)
            walk(f, &c->child[k], r, depth + 1);
        break;
    case SP_T_BOOL: case SP_T_UINT8: case SP_T_UINT16: case SP_T_UINT32: case SP_T_UINT64:
        f->sum += c->v.u64[r];
        break;
    case SP_T_INT8: case SP_T_INT16: case SP_T_INT32: case SP_T_INT64: case SP_T_DATE:
    case SP_T_DATE32: case SP_T_DATETIME: case SP_T_DATETIME64:
        f->sum += (uint64_t)c->v.i64[r];
        break;
    case SP_T_FLOAT32: case SP_T_FLOAT64:
        f->sum += c->v.f64[r] > 0;
        break;
    default: {
        sp_str s = c->v.str[r];
        for (size_t i = 0; i < s.n; i++)
            f->sum += (unsigned char)s.p[i];
        break;
    }
    }
}

static int f_append(sp_engine *e, const sp_datasource *ds, const sp_schema *s,
                    const sp_batch *b, sp_error *err)
{
    fake *f = (fake *)e;
    (void)ds, (void)err;
    fz_check(s->ncols == b->ncols, "schema has %zu columns, batch %zu", s->ncols, b->ncols);
    for (size_t c = 0; c < b->ncols; c++) {
        fz_check(b->cols[c].type == s->types[c], "column %zu: batch type is not the schema's",
                 c);
        for (size_t r = 0; r < b->nrows; r++)
            walk(f, &b->cols[c], r, 0);
    }
    f->rows += b->nrows;
    return 0;
}

static int f_quarantine(sp_engine *e, const sp_datasource *ds, const sp_qrow *rows, size_t n,
                        int64_t now, sp_error *err)
{
    fake *f = (fake *)e;
    (void)ds, (void)now, (void)err;
    for (size_t i = 0; i < n; i++) {
        fz_check(rows[i].error && rows[i].error[0], "quarantined row without a reason");
        for (size_t k = 0; k < rows[i].rawlen; k++)
            f->sum += (unsigned char)rows[i].raw[k];
    }
    f->quarantined += n;
    return 0;
}

/* DEFAULTs: 'x' -> x, NULL -> NULL, now() -> a fixed time, fail() -> an
 * engine error, else the expression text itself */
static int f_eval(sp_engine *e, const char *expr, int64_t now, char **out, sp_error *err)
{
    (void)e, (void)now;
    size_t n = strlen(expr);
    if (!strcmp(expr, "fail()"))
        return sp_error_set(err, SP_EENGINE, 0, "cannot evaluate '%s'", expr);
    if (!strcmp(expr, "NULL"))
        *out = NULL;
    else if (!strcmp(expr, "now()"))
        *out = strdup("2026-01-02 03:04:05");
    else if (n >= 2 && expr[0] == '\'' && expr[n - 1] == '\'')
        *out = strndup(expr + 1, n - 2);
    else
        *out = strdup(expr);
    if (strcmp(expr, "NULL") && !*out)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    return 0;
}

static const sp_engine_vt fake_vt = { "fake", NULL, f_append, f_quarantine, f_eval,
                                      NULL, NULL, NULL, NULL, NULL };

static const char *const schema_a[] = {
    "s|String||",
    "i|Int32||",
    "u|UInt64||",
    "f|Nullable(Float64)||",
    "dt|DateTime||",
    "d|Date||",
    "t3|DateTime64(3)||",
    "arr|Array(String)|$.arr[:]|",
    "m|Map(String, UInt64)||",
    "dec|Decimal(18, 4)||",
    "id|UUID||",
    "b|Bool||",
    "deep|Nullable(String)|$.a.b[0].c|",
    "dflt|LowCardinality(String)||'dflt'",
    "e|Enum8('a' = 1, 'b' = 2)||",
    "ip|IPv4||",
    NULL,
};
static const char *const schema_b[] = {
    "i8|Int8||",
    "u16|UInt16||",
    "big|Int128||",
    "ubig|UInt256||",
    "f32|Float32||",
    "fs|FixedString(3)||",
    "d32|Date32||",
    "ip6|IPv6||",
    "j|JSON||",
    "aa|Array(Array(Nullable(Int64)))||",
    "tup|Tuple(a Int8, b String)||",
    "lt|Array(Int32)|$.l[-1]|",
    "sp|String|$.['sp ace']|",
    "now|DateTime|$.none|now()",
    "n|Nullable(UInt8)||NULL",
    "e16|Enum16('x' = -1000, 'y' = 1000)||",
    NULL,
};

typedef struct dsb {
    sp_datasource ds;
    sp_column_def cols[MAXC];
    char *store[MAXC];
} dsb;

static void ds_add(dsb *d, const char *spec)
{
    size_t i = d->ds.ncols;
    if (i >= MAXC || !(d->store[i] = strdup(spec)))
        return;
    char *parts[4] = { NULL, NULL, NULL, NULL };
    char *s = d->store[i];
    for (int k = 0; k < 4 && s; k++) {
        parts[k] = s;
        s = strchr(s, '|');
        if (s)
            *s++ = '\0';
    }
    d->cols[i].name = parts[0];
    d->cols[i].type = parts[1] ? parts[1] : (char *)"String";
    d->cols[i].jsonpath = parts[2] && *parts[2] ? parts[2] : NULL;
    d->cols[i].default_expr = parts[3] && *parts[3] ? parts[3] : NULL;
    d->ds.ncols = i + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t chunks[8] = { 0, 1, 2, 3, 7, 16, 64, 4093 };
    if (size < 1 || size > (1 << 20))
        return 0;
    uint8_t ctl = data[0];
    char *parts[2];
    size_t np = fz_split(data + 1, size - 1, parts, 2);
    dsb d;
    memset(&d, 0, sizeof d);
    d.ds.name = (char *)"fuzz";
    d.ds.cols = d.cols;
    /* the data's length (before the schema lines are cut up in place) */
    size_t len = np == 2 ? (size - 1) - (strlen(parts[0]) + 1) : size - 1;
    if (np == 2) {
        for (char *line = parts[0]; line && *line;) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            ds_add(&d, line);
            line = nl ? nl + 1 : NULL;
        }
    } else {
        for (const char *const *s = (ctl & 16) ? schema_b : schema_a; *s; s++)
            ds_add(&d, *s);
    }
    /* the data, exact-size (no terminator) so reads past the end trip ASan */
    const char *src = parts[np - 1];
    char *buf = malloc(len ? len : 1);
    if (!buf)
        abort();
    if (len)
        memcpy(buf, src, len);

    fake f;
    memset(&f, 0, sizeof f);
    f.base.vt = &fake_vt;
    sp_ingest *in = NULL;
    sp_error err = SP_ERROR_INIT;
    sp_ingest_format fmt = (ctl & 1) ? SP_INGEST_CSV : SP_INGEST_NDJSON;
    int rc = sp_ingest_new(&f.base, &d.ds, fmt, 1700000000, &in, &err);
    size_t chunk = chunks[(ctl >> 1) & 7];
    for (size_t pos = 0; !rc && pos < len;) {
        size_t n = chunk && len - pos > chunk ? chunk : len - pos;
        rc = sp_ingest_feed(in, buf + pos, n, &err);
        pos += n;
    }
    sp_append_result res;
    memset(&res, 0, sizeof res);
    if (!rc)
        rc = sp_ingest_finish(in, &res, &err);
    if (rc) {
        fz_check_msg(&err);
    } else {
        fz_check(res.rows_loaded == f.rows, "%llu rows appended, result says %llu",
                 (unsigned long long)f.rows, (unsigned long long)res.rows_loaded);
        fz_check(res.rows_in == res.rows_loaded + res.rows_quarantined,
                 "%llu rows read, %llu loaded, %llu quarantined",
                 (unsigned long long)res.rows_in, (unsigned long long)res.rows_loaded,
                 (unsigned long long)res.rows_quarantined);
        fz_check(res.rows_quarantined == f.quarantined,
                 "%llu rows quarantined, result says %llu",
                 (unsigned long long)f.quarantined, (unsigned long long)res.rows_quarantined);
    }
    sp_ingest_free(in);
    free(buf);
    for (size_t i = 0; i < MAXC; i++)
        free(d.store[i]);
    fz_free_parts(parts, np);
    return 0;
}
