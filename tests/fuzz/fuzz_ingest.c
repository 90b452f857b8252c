/* fuzz_ingest: NDJSON and CSV ingestion into validated batches (sp_ingest_*)
 * against a fake engine that walks every batch it is given.
 *
 * Input: byte 0 picks the format (bit 0: CSV), the feed chunk size (bits
 * 1-3) and one of four fixed schemas (bits 4-5; c and d have only the
 * jsonpaths the NDJSON scanner follows).  When the rest holds a NUL byte,
 * the part before it is the schema itself, one column per line as
 * `name|type|jsonpath|default` (so column types, jsonpaths and DEFAULTs are
 * fuzzed too), and the part after it is the data.  Invariants: every row
 * read is either appended or quarantined; NDJSON loads the same through
 * the scanner (sp_ingest_scan) as through jansson, byte for byte (values,
 * batches, quarantine rows and reasons, counts, errors). */
#include "fuzz.h"

#include "sp_buf.h"
#include "sp_engine.h"
#include "sp_error.h"
#include "sp_ingest.h"
#include "sp_ingest_int.h"

#define MAXC 16

typedef struct fake {
    sp_engine base;
    uint64_t rows, quarantined, sum;
    sp_buf out; /* every batch and quarantine row, rendered exactly */
} fake;

/* touch every value of row r of column c (so bad pointers trip ASan) and
 * render it into f->out */
static void walk(fake *f, const sp_column *c, size_t r, int depth)
{
    fz_check(depth < 64, "nesting too deep");
    sp_buf_addch(&f->out, ' ', NULL);
    if (c->nulls && c->nulls[r]) {
        sp_buf_adds(&f->out, "NULL", NULL);
        return;
    }
    switch (c->type->kind) {
    case SP_T_ARRAY:
    case SP_T_MAP:
        fz_check(c->offsets[r] <= c->offsets[r + 1], "offsets decrease at row %zu", r);
        sp_buf_addch(&f->out, '[', NULL);
        for (uint64_t i = c->offsets[r]; i < c->offsets[r + 1]; i++)
            for (size_t k = 0; k < (c->type->kind == SP_T_MAP ? 2u : 1u); k++)
                walk(f, &c->child[k], (size_t)i, depth + 1);
        sp_buf_addch(&f->out, ']', NULL);
        break;
    case SP_T_TUPLE:
        sp_buf_addch(&f->out, '(', NULL);
        for (size_t k = 0; k < c->nchild; k++)
            walk(f, &c->child[k], r, depth + 1);
        sp_buf_addch(&f->out, ')', NULL);
        break;
    case SP_T_BOOL: case SP_T_UINT8: case SP_T_UINT16: case SP_T_UINT32: case SP_T_UINT64:
        f->sum += c->v.u64[r];
        sp_buf_addf(&f->out, NULL, "u%llu", (unsigned long long)c->v.u64[r]);
        break;
    case SP_T_INT8: case SP_T_INT16: case SP_T_INT32: case SP_T_INT64: case SP_T_DATE:
    case SP_T_DATE32: case SP_T_DATETIME: case SP_T_DATETIME64:
        f->sum += (uint64_t)c->v.i64[r];
        sp_buf_addf(&f->out, NULL, "i%lld", (long long)c->v.i64[r]);
        break;
    case SP_T_FLOAT32: case SP_T_FLOAT64: {
        uint64_t bits;
        memcpy(&bits, &c->v.f64[r], sizeof(bits)); /* exact: -0, NaN payloads */
        f->sum += c->v.f64[r] > 0;
        sp_buf_addf(&f->out, NULL, "f%016llx", (unsigned long long)bits);
        break;
    }
    default: {
        sp_str s = c->v.str[r];
        for (size_t i = 0; i < s.n; i++)
            f->sum += (unsigned char)s.p[i];
        sp_buf_addf(&f->out, NULL, "%zu:", s.n);
        sp_buf_add(&f->out, s.p, s.n, NULL);
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
    }
    sp_buf_addf(&f->out, NULL, "batch %zu\n", b->nrows);
    for (size_t r = 0; r < b->nrows; r++) {
        for (size_t c = 0; c < b->ncols; c++)
            walk(f, &b->cols[c], r, 0);
        sp_buf_addch(&f->out, '\n', NULL);
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
        sp_buf_addf(&f->out, NULL, "Q %llu|%s|%s|%zu:", (unsigned long long)rows[i].lineno,
                    rows[i].column ? rows[i].column : "-", rows[i].error, rows[i].rawlen);
        sp_buf_add(&f->out, rows[i].raw, rows[i].rawlen, NULL);
        sp_buf_addch(&f->out, '\n', NULL);
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
/* as a and b, with only the jsonpaths the NDJSON scanner follows */
static const char *const schema_c[] = {
    "s|String||",
    "i|Int32||",
    "u|UInt64||",
    "f|Nullable(Float64)||",
    "dt|DateTime||",
    "t3|DateTime64(3)||",
    "arr|Array(String)||",
    "m|Map(String, UInt64)||",
    "dec|Decimal(18, 4)||",
    "id|UUID||",
    "b|Bool||",
    "deep|Nullable(String)|$.a.b.c|",
    "ab|Nullable(Int64)|$.a.b|",
    "dflt|LowCardinality(String)||'dflt'",
    "e|Enum8('a' = 1, 'b' = 2)||",
    "j|JSON||",
    NULL,
};
static const char *const schema_d[] = {
    "i8|Int8||",
    "u16|UInt16||",
    "big|Int128||",
    "ubig|UInt256||",
    "f32|Float32||",
    "fs|FixedString(3)||",
    "d32|Date32||",
    "ip6|IPv6||",
    "j|Nullable(String)||",
    "aa|Array(Array(Nullable(Int64)))||",
    "tup|Tuple(a Int8, b String)||",
    "lt|Array(Int32)|$.l|",
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

typedef struct outcome {
    int rc, scanning;
    char msg[sizeof(((sp_error *)0)->msg)];
    sp_append_result res;
    fake f;
} outcome;

/* one load of buf[0..len) into d; scan 0 forces jansson for NDJSON */
static void load(const dsb *d, sp_ingest_format fmt, const char *buf, size_t len,
                 size_t chunk, int scan, outcome *o)
{
    memset(o, 0, sizeof(*o));
    o->f.base.vt = &fake_vt;
    sp_buf_init(&o->f.out, SP_BUF_DEFAULT_MAX);
    sp_ingest *in = NULL;
    sp_error err = SP_ERROR_INIT;
    int rc = sp_ingest_new(&o->f.base, &d->ds, fmt, 1700000000, &in, &err);
    if (!rc) {
        sp__ingest_use_scanner(in, scan);
        o->scanning = sp__ingest_scanning(in);
    }
    for (size_t pos = 0; !rc && pos < len;) {
        size_t n = chunk && len - pos > chunk ? chunk : len - pos;
        rc = sp_ingest_feed(in, buf + pos, n, &err);
        pos += n;
    }
    if (!rc)
        rc = sp_ingest_finish(in, &o->res, &err);
    if (rc) {
        fz_check_msg(&err);
    } else {
        fz_check(o->res.rows_loaded == o->f.rows, "%llu rows appended, result says %llu",
                 (unsigned long long)o->f.rows, (unsigned long long)o->res.rows_loaded);
        fz_check(o->res.rows_in == o->res.rows_loaded + o->res.rows_quarantined,
                 "%llu rows read, %llu loaded, %llu quarantined",
                 (unsigned long long)o->res.rows_in, (unsigned long long)o->res.rows_loaded,
                 (unsigned long long)o->res.rows_quarantined);
        fz_check(o->res.rows_quarantined == o->f.quarantined,
                 "%llu rows quarantined, result says %llu",
                 (unsigned long long)o->f.quarantined,
                 (unsigned long long)o->res.rows_quarantined);
    }
    o->rc = rc;
    memcpy(o->msg, err.msg, sizeof(o->msg));
    sp_ingest_free(in);
}

/* the first line where the two renderings differ */
static size_t first_diff(const sp_buf *a, const sp_buf *b, size_t *line)
{
    size_t i = 0, n = a->len < b->len ? a->len : b->len;
    *line = 1;
    while (i < n && a->data[i] == b->data[i])
        *line += a->data[i++] == '\n';
    while (i > 0 && a->data[i - 1] != '\n')
        i--;
    return i;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t chunks[8] = { 0, 1, 2, 3, 7, 16, 64, 4093 };
    static const char *const *const schemas[4] = { schema_a, schema_b, schema_c, schema_d };
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
        for (const char *const *s = schemas[(ctl >> 4) & 3]; *s; s++)
            ds_add(&d, *s);
    }
    /* the data, exact-size (no terminator) so reads past the end trip ASan */
    const char *src = parts[np - 1];
    char *buf = malloc(len ? len : 1);
    if (!buf)
        abort();
    if (len)
        memcpy(buf, src, len);

    sp_ingest_format fmt = (ctl & 1) ? SP_INGEST_CSV : SP_INGEST_NDJSON;
    size_t chunk = chunks[(ctl >> 1) & 7];
    static outcome a, b; /* big: sp_error's message */
    load(&d, fmt, buf, len, chunk, 1, &a);
    if (a.scanning) {
        /* the reference: the same feeds through jansson */
        load(&d, fmt, buf, len, chunk, 0, &b);
        fz_check(a.rc == b.rc && !strcmp(a.msg, b.msg), "scanner: %d '%s', jansson: %d '%s'",
                 a.rc, a.msg, b.rc, b.msg);
        fz_check(a.res.rows_in == b.res.rows_in && a.res.rows_loaded == b.res.rows_loaded &&
                     a.res.rows_quarantined == b.res.rows_quarantined,
                 "counts differ: scanner %llu/%llu/%llu, jansson %llu/%llu/%llu",
                 (unsigned long long)a.res.rows_in, (unsigned long long)a.res.rows_loaded,
                 (unsigned long long)a.res.rows_quarantined, (unsigned long long)b.res.rows_in,
                 (unsigned long long)b.res.rows_loaded,
                 (unsigned long long)b.res.rows_quarantined);
        size_t line, at = first_diff(&a.f.out, &b.f.out, &line);
        fz_check(a.f.out.len == b.f.out.len &&
                     (!a.f.out.len || !memcmp(a.f.out.data, b.f.out.data, a.f.out.len)),
                 "output line %zu differs:\nscanner: %.300s\njansson: %.300s", line,
                 a.f.out.data ? a.f.out.data + at : "", b.f.out.data ? b.f.out.data + at : "");
        sp_buf_release(&b.f.out);
    }
    sp_buf_release(&a.f.out);
    free(buf);
    for (size_t i = 0; i < MAXC; i++)
        free(d.store[i]);
    fz_free_parts(parts, np);
    return 0;
}
