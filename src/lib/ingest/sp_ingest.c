/* sp_ingest: NDJSON / CSV records into validated batches of a datasource,
 * rejected rows into its quarantine.  Records are split as bytes arrive;
 * only an incomplete tail is kept between feeds.  See docs/ingest.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_error.h"
#include "sp_ingest.h"
#include "sp_ingest_int.h"
#include "sp_ingest_scan.h"
#include "sp_banned.h"

#define MAX_ROWS ((size_t)8192)
#define MAX_BATCH_BYTES ((size_t)16 << 20)
#define MAX_RECORD ((size_t)128 << 20) /* one NDJSON line or CSV record: 100 MB values fit */
#define MAX_QROWS ((size_t)1024)
#define MAX_QBYTES ((size_t)8 << 20)
#define RAW_KEEP ((size_t)4096) /* bytes of a too-large record kept as its raw */

typedef struct icol {
    const sp_column_def *def;
    sp_type *type;
    sp__jpath path;
    sp__colbuf cb;
    char *deftext;   /* DEFAULT evaluated once, as text; NULL = none / NULL */
    int has_default;
} icol;

typedef struct field {
    size_t off, len;
    int quoted, null;
} field;

struct sp_ingest {
    sp_engine *e;
    const sp_datasource *ds;
    sp_ingest_format fmt;
    int64_t now;
    size_t ncols;
    icol *cols;
    sp_schema schema;
    sp_column *views;
    /* current batch */
    sp__arena arena;
    size_t batch_bytes, nrows;
    sp_buf scratch, msg;
    /* NDJSON fast path (sp_ingest_scan.h): NULL when a jsonpath needs
     * jansson; use_scan 0 forces jansson for every record (tests) */
    sp__scan *scan;
    int use_scan;
    uint64_t fallbacks; /* records the scanner left to jansson */
    sp_buf ubuf; /* decoded strings of the scanned record */
    /* quarantine batch */
    sp__arena qarena;
    sp_qrow *q;
    size_t nq, qcap, qbytes;
    /* input splitting */
    sp_buf pending;
    int inq;          /* CSV: inside quotes at the end of the scanned bytes */
    uint64_t rec_nl;  /* newlines inside the current (CSV) record */
    int skipping;     /* the current record passed max_record */
    size_t skipped;   /* its bytes so far */
    uint64_t lineno;  /* line of the next record's start, 1-based */
    int started;      /* a record was seen (BOM, CSV header) */
    /* CSV */
    sp_buf fbuf;
    field *fields;
    size_t nf, fcap;
    size_t *map; /* column -> field index */
    size_t max_rows, max_bytes, max_record;
    sp_append_result res;
    int failed;
};

/* ---------------------------------------------------------- quarantine */

static int q_flush(sp_ingest *in, sp_error *err)
{
    if (!in->nq)
        return 0;
    int rc = in->e->vt->quarantine(in->e, in->ds, in->q, in->nq, in->now, err);
    if (rc)
        return rc;
    in->nq = 0;
    in->qbytes = 0;
    sp__arena_reset(&in->qarena);
    return 0;
}

static int quarantine(sp_ingest *in, const char *raw, size_t rawlen, const char *error,
                      const char *column, uint64_t lineno, sp_error *err)
{
    if (in->nq == in->qcap) {
        size_t cap = in->qcap ? in->qcap * 2 : 64;
        sp_qrow *nq = realloc(in->q, cap * sizeof(*nq));
        if (!nq)
            return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        in->q = nq;
        in->qcap = cap;
    }
    size_t el = strlen(error), cl = column ? strlen(column) : 0;
    char *r = sp__arena_dup(&in->qarena, raw, rawlen);
    char *e = sp__arena_dup(&in->qarena, error, el + 1);
    char *c = column ? sp__arena_dup(&in->qarena, column, cl + 1) : NULL;
    if (!r || !e || (column && !c))
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    sp_qrow *q = &in->q[in->nq++];
    q->raw = r;
    q->rawlen = rawlen;
    q->error = e;
    q->column = c;
    q->lineno = lineno;
    in->qbytes += rawlen + el + cl;
    in->res.rows_quarantined++;
    if (in->nq >= MAX_QROWS || in->qbytes >= MAX_QBYTES)
        return q_flush(in, err);
    return 0;
}

/* -------------------------------------------------------------- batches */

static int batch_flush(sp_ingest *in, sp_error *err)
{
    if (!in->nrows)
        return 0;
    for (size_t i = 0; i < in->ncols; i++)
        sp__colbuf_view(&in->cols[i].cb, &in->views[i]);
    sp_batch b = { in->nrows, in->ncols, in->views };
    int rc = in->e->vt->append(in->e, in->ds, &in->schema, &b, err);
    if (rc)
        return rc;
    in->res.rows_loaded += in->nrows;
    for (size_t i = 0; i < in->ncols; i++)
        sp__colbuf_truncate(&in->cols[i].cb, 0);
    sp__arena_reset(&in->arena);
    in->nrows = 0;
    in->batch_bytes = 0;
    return 0;
}

static void conv_init(sp_ingest *in, sp__conv *cv, const icol *c)
{
    cv->arena = &in->arena;
    cv->batch_bytes = &in->batch_bytes;
    cv->scratch = &in->scratch;
    cv->colname = c->def->name;
    cv->msg = &in->msg;
    cv->bignum = 0;
    cv->ubuf = &in->ubuf;
}

/* A missing value (absent, null, \N, or an empty CSV field): the DEFAULT,
 * else NULL for Nullable columns; else, when `text` is given (an empty CSV
 * field), that text; else the row is rejected. */
static int put_missing(sp_ingest *in, icol *c, sp__conv *cv, const char *text, sp_error *err)
{
    if (c->has_default) {
        if (!c->deftext)
            return sp__conv_null(cv, &c->cb, err);
        return sp__conv_text(cv, &c->cb, c->deftext, strlen(c->deftext), err);
    }
    if (c->type->nullable)
        return sp__conv_null(cv, &c->cb, err);
    if (text)
        return sp__conv_text(cv, &c->cb, text, strlen(text), err);
    sp_buf_reset(&in->msg);
    sp_buf_addf(&in->msg, NULL,
                "column '%s': missing value (the column is not Nullable and has no DEFAULT)",
                c->def->name);
    return SP_EDATA;
}

/* roll back a partly converted row; quarantine it when it was a data error */
static int row_failed(sp_ingest *in, int rc, size_t upto, size_t bad, size_t saved_bytes,
                      sp__amark mark, const char *raw, size_t rawlen, uint64_t lineno,
                      sp_error *err)
{
    for (size_t k = 0; k <= upto && k < in->ncols; k++)
        sp__colbuf_truncate(&in->cols[k].cb, in->nrows);
    sp__arena_rollback(&in->arena, mark);
    in->batch_bytes = saved_bytes;
    if (rc != SP_EDATA)
        return rc;
    return quarantine(in, raw, rawlen, in->msg.data ? in->msg.data : "bad value",
                      in->cols[bad].def->name, lineno, err);
}

static int row_done(sp_ingest *in, sp_error *err)
{
    in->nrows++;
    if (in->nrows >= in->max_rows || in->batch_bytes >= in->max_bytes)
        return batch_flush(in, err);
    return 0;
}

/* ---------------------------------------------------------------- NDJSON */

/* a missing or null value of column c */
static int put_absent(sp_ingest *in, icol *c, sp__conv *cv, int is_null, sp_error *err)
{
    /* an explicit null into a Nullable column stays NULL */
    if (is_null && c->type->nullable)
        return sp__conv_null(cv, &c->cb, err);
    return put_missing(in, c, cv, NULL, err);
}

/* the reference path: jansson's tree of the record */
static int ndjson_jansson(sp_ingest *in, const char *p, size_t n, uint64_t lineno,
                          sp_error *err)
{
    json_error_t je;
    json_t *root = json_loadb(p, n, JSON_ALLOW_NUL, &je);
    int bignum = 0;
    if (!root && strstr(je.text, "too big") && sp__json_bignum_rewrite(p, n, &in->scratch)) {
        /* integers beyond int64 go over as marker strings (sp_ingest_int.h) */
        json_error_t je2;
        root = json_loadb(in->scratch.data, in->scratch.len, JSON_ALLOW_NUL, &je2);
        bignum = root != NULL;
    }
    if (!root || !json_is_object(root)) {
        char why[256];
        if (root)
            snprintf(why, sizeof(why), "invalid json: the line is not a JSON object");
        else
            snprintf(why, sizeof(why), "invalid json: %s at column %d", je.text, je.column);
        json_decref(root);
        return quarantine(in, p, n, why, NULL, lineno, err);
    }
    size_t saved = in->batch_bytes;
    sp__amark mark = sp__arena_mark(&in->arena);
    int rc = 0;
    size_t i;
    for (i = 0; i < in->ncols && !rc; i++) {
        icol *c = &in->cols[i];
        sp__conv cv;
        conv_init(in, &cv, c);
        cv.bignum = bignum;
        json_t *v = sp__jpath_eval(&c->path, root);
        if (!v || json_is_null(v))
            rc = put_absent(in, c, &cv, v != NULL, err);
        else
            rc = sp__conv_json(&cv, &c->cb, v, 0, err);
        json_decref(v);
    }
    json_decref(root);
    if (rc)
        return row_failed(in, rc, i - 1, i - 1, saved, mark, p, n, lineno, err);
    return row_done(in, err);
}

/* the fast path: the same row from the scanner's spans, or SP__FALLBACK
 * (nothing of the row kept) when the record needs jansson */
static int ndjson_scanned(sp_ingest *in, const char *p, size_t n, uint64_t lineno,
                          sp_error *err)
{
    if (sp__scan_record(in->scan, p, n))
        return SP__FALLBACK;
    size_t saved = in->batch_bytes;
    sp__amark mark = sp__arena_mark(&in->arena);
    int rc = 0;
    size_t i;
    for (i = 0; i < in->ncols && !rc; i++) {
        icol *c = &in->cols[i];
        sp__conv cv;
        conv_init(in, &cv, c);
        const sp__jv *v = sp__scan_get(in->scan, i);
        if (v->t == SP__JV_MISSING || v->t == SP__JV_NULL)
            rc = put_absent(in, c, &cv, v->t == SP__JV_NULL, err);
        else
            rc = sp__conv_jv(&cv, &c->cb, v, err);
    }
    if (rc) /* SP__FALLBACK is rolled back and returned as it is */
        return row_failed(in, rc, i - 1, i - 1, saved, mark, p, n, lineno, err);
    return row_done(in, err);
}

static int ndjson_record(sp_ingest *in, const char *p, size_t n, uint64_t lineno,
                         sp_error *err)
{
    size_t k = 0;
    while (k < n && (p[k] == ' ' || p[k] == '\t'))
        k++;
    if (k == n)
        return 0; /* blank line */
    in->res.rows_in++;
    if (in->scan && in->use_scan) {
        int rc = ndjson_scanned(in, p, n, lineno, err);
        if (rc != SP__FALLBACK)
            return rc;
        in->fallbacks++;
    }
    return ndjson_jansson(in, p, n, lineno, err);
}

/* ------------------------------------------------------------------ CSV */

static int add_field(sp_ingest *in, size_t off, int quoted, int null, sp_error *err)
{
    if (in->nf == in->fcap) {
        size_t cap = in->fcap ? in->fcap * 2 : 32;
        field *nf = realloc(in->fields, cap * sizeof(*nf));
        if (!nf)
            return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        in->fields = nf;
        in->fcap = cap;
    }
    field *f = &in->fields[in->nf++];
    f->off = off;
    f->len = in->fbuf.len - off;
    f->quoted = quoted;
    f->null = null;
    return 0;
}

/* split an RFC 4180 record into in->fields; 1 when malformed */
static int csv_split(sp_ingest *in, const char *p, size_t n, sp_error *err)
{
    in->nf = 0;
    sp_buf_reset(&in->fbuf);
    size_t i = 0;
    for (;;) {
        size_t off = in->fbuf.len;
        int rc, quoted = 0, null = 0;
        if (i < n && p[i] == '"') {
            quoted = 1;
            i++;
            for (;;) {
                const char *q = memchr(p + i, '"', n - i);
                if (!q)
                    return 1; /* unterminated quotes */
                size_t j = (size_t)(q - p);
                if ((rc = sp_buf_add(&in->fbuf, p + i, j - i, err)))
                    return rc;
                if (j + 1 < n && p[j + 1] == '"') {
                    if ((rc = sp_buf_addch(&in->fbuf, '"', err)))
                        return rc;
                    i = j + 2;
                    continue;
                }
                i = j + 1;
                break;
            }
            if (i < n && p[i] != ',')
                return 1; /* text after the closing quote */
        } else {
            const char *c = memchr(p + i, ',', n - i);
            size_t j = c ? (size_t)(c - p) : n;
            null = j - i == 2 && p[i] == '\\' && p[i + 1] == 'N';
            if ((rc = sp_buf_add(&in->fbuf, p + i, j - i, err)))
                return rc;
            i = j;
        }
        if ((rc = add_field(in, off, quoted, null, err)))
            return rc;
        if (i >= n)
            return 0;
        i++; /* the comma */
    }
}

static const char *fdata(const sp_ingest *in, const field *f)
{
    return in->fbuf.data ? in->fbuf.data + f->off : "";
}

/* a first record naming every column once is a header; 1 when it is */
static int csv_header(sp_ingest *in)
{
    if (in->nf != in->ncols)
        return 0;
    for (size_t c = 0; c < in->ncols; c++)
        in->map[c] = (size_t)-1;
    for (size_t f = 0; f < in->nf; f++) {
        size_t c;
        for (c = 0; c < in->ncols; c++) {
            const char *name = in->cols[c].def->name;
            if (strlen(name) == in->fields[f].len && !memcmp(name, fdata(in, &in->fields[f]),
                                                             in->fields[f].len))
                break;
        }
        if (c == in->ncols || in->map[c] != (size_t)-1)
            goto no;
        in->map[c] = f;
    }
    return 1;
no:
    for (size_t c = 0; c < in->ncols; c++)
        in->map[c] = c;
    return 0;
}

static int csv_record(sp_ingest *in, const char *p, size_t n, uint64_t lineno, sp_error *err)
{
    if (n == 0)
        return 0; /* empty line */
    int rc = csv_split(in, p, n, err);
    if (rc < 0)
        return rc;
    int first = !in->started;
    in->started = 1;
    if (!rc && first && csv_header(in))
        return 0;
    in->res.rows_in++;
    if (rc == 1)
        return quarantine(in, p, n, "malformed csv: bad quoting", NULL, lineno, err);
    if (in->nf != in->ncols) {
        char why[128];
        snprintf(why, sizeof(why), "expected %zu fields, got %zu", in->ncols, in->nf);
        return quarantine(in, p, n, why, NULL, lineno, err);
    }
    size_t saved = in->batch_bytes;
    sp__amark mark = sp__arena_mark(&in->arena);
    size_t i;
    for (i = 0; i < in->ncols && !rc; i++) {
        icol *c = &in->cols[i];
        const field *f = &in->fields[in->map[i]];
        sp__conv cv;
        conv_init(in, &cv, c);
        if (f->null)
            rc = c->type->nullable ? sp__conv_null(&cv, &c->cb, err)
                                   : put_missing(in, c, &cv, NULL, err);
        else if (!f->quoted && f->len == 0)
            rc = put_missing(in, c, &cv, "", err);
        else
            rc = sp__conv_text(&cv, &c->cb, fdata(in, f), f->len, err);
    }
    if (rc)
        return row_failed(in, rc, i - 1, i - 1, saved, mark, p, n, lineno, err);
    return row_done(in, err);
}

/* ------------------------------------------------------------- records */

static int record(sp_ingest *in, const char *p, size_t n, sp_error *err)
{
    uint64_t lineno = in->lineno;
    in->lineno += 1 + in->rec_nl;
    in->rec_nl = 0;
    if (!in->started && n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) {
        p += 3; /* a UTF-8 byte order mark */
        n -= 3;
    }
    if (n && p[n - 1] == '\r')
        n--;
    if (n > in->max_record) {
        in->res.rows_in++;
        in->started = 1;
        char why[128];
        snprintf(why, sizeof(why), "row too large: %zu bytes (limit %zu)", n, in->max_record);
        return quarantine(in, p, n < RAW_KEEP ? n : RAW_KEEP, why, NULL, lineno, err);
    }
    if (in->fmt == SP_INGEST_NDJSON) {
        in->started = 1;
        return ndjson_record(in, p, n, lineno, err);
    }
    return csv_record(in, p, n, lineno, err);
}

/* find the end of the current record in p[0..n); updates the quote state */
static int scan(sp_ingest *in, const char *p, size_t n, size_t *end)
{
    if (in->fmt == SP_INGEST_NDJSON) {
        const char *e = memchr(p, '\n', n);
        if (!e)
            return 0;
        *end = (size_t)(e - p);
        return 1;
    }
    int inq = in->inq;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"') {
            inq = !inq;
        } else if (p[i] == '\n') {
            if (!inq) {
                in->inq = 0;
                *end = i;
                return 1;
            }
            in->rec_nl++;
        }
    }
    in->inq = inq;
    return 0;
}

static int pend_add(sp_ingest *in, const char *p, size_t n, sp_error *err)
{
    if (in->skipping) {
        in->skipped += n;
        return 0;
    }
    if (in->pending.len + n > in->max_record) {
        /* keep the head only: the record goes to the quarantine */
        size_t keep = in->pending.len < RAW_KEEP ? RAW_KEEP - in->pending.len : 0;
        if (keep > n)
            keep = n;
        int rc = sp_buf_add(&in->pending, p, keep, err);
        in->skipping = 1;
        in->skipped = in->pending.len - keep + n;
        if (in->pending.len > RAW_KEEP)
            in->pending.len = RAW_KEEP;
        return rc;
    }
    return sp_buf_add(&in->pending, p, n, err);
}

static int skipped_record(sp_ingest *in, sp_error *err)
{
    uint64_t lineno = in->lineno;
    in->lineno += 1 + in->rec_nl;
    in->rec_nl = 0;
    in->res.rows_in++;
    in->started = 1;
    char why[128];
    snprintf(why, sizeof(why), "row too large: more than %zu bytes", in->max_record);
    int rc = quarantine(in, in->pending.data ? in->pending.data : "", in->pending.len, why,
                        NULL, lineno, err);
    in->skipping = 0;
    in->skipped = 0;
    sp_buf_reset(&in->pending);
    return rc;
}

int sp_ingest_feed(sp_ingest *in, const char *data, size_t len, sp_error *err)
{
    if (in->failed)
        return sp_error_set(err, SP_EINVAL, 0, "ingest into '%s' already failed",
                            in->ds->name);
    size_t pos = 0;
    int rc = 0;
    while (pos < len && !rc) {
        size_t end;
        if (!scan(in, data + pos, len - pos, &end)) {
            rc = pend_add(in, data + pos, len - pos, err);
            break;
        }
        if (in->skipping) {
            rc = skipped_record(in, err);
        } else if (in->pending.len == 0) {
            rc = record(in, data + pos, end, err);
        } else {
            rc = pend_add(in, data + pos, end, err);
            if (!rc && in->skipping)
                rc = skipped_record(in, err);
            else if (!rc) {
                rc = record(in, in->pending.data, in->pending.len, err);
                sp_buf_reset(&in->pending);
            }
        }
        pos += end + 1;
    }
    if (rc)
        in->failed = 1;
    return rc;
}

int sp_ingest_finish(sp_ingest *in, sp_append_result *res, sp_error *err)
{
    int rc = 0;
    if (in->failed)
        rc = sp_error_set(err, SP_EINVAL, 0, "ingest into '%s' already failed", in->ds->name);
    if (!rc && in->skipping)
        rc = skipped_record(in, err);
    else if (!rc && in->pending.len) {
        rc = record(in, in->pending.data, in->pending.len, err);
        sp_buf_reset(&in->pending);
    }
    if (!rc)
        rc = batch_flush(in, err);
    if (!rc)
        rc = q_flush(in, err);
    if (rc)
        in->failed = 1;
    if (res)
        *res = in->res;
    return rc;
}

/* ------------------------------------------------------------ lifecycle */

static int col_setup(sp_ingest *in, icol *c, const sp_column_def *def, sp_error *err)
{
    c->def = def;
    int rc = sp_type_parse(def->type, &c->type, err);
    if (!rc)
        rc = sp__colbuf_init(&c->cb, c->type, err);
    if (!rc && in->fmt == SP_INGEST_NDJSON) {
        if (def->jsonpath && *def->jsonpath) {
            rc = sp__jpath_parse(def->jsonpath, &c->path, err);
        } else {
            /* no jsonpath: the key named like the column */
            c->path.steps = calloc(1, sizeof(*c->path.steps));
            char *key = strdup(def->name);
            if (!c->path.steps || !key) {
                free(key);
                rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
            } else {
                c->path.steps[0].kind = SP__JP_KEY;
                c->path.steps[0].key = key;
                c->path.n = 1;
            }
        }
    }
    if (!rc && def->default_expr && *def->default_expr) {
        rc = in->e->vt->eval_scalar(in->e, def->default_expr, in->now, &c->deftext, err);
        if (!rc) {
            c->has_default = 1;
            /* the DEFAULT must itself convert: try it, then drop it */
            sp__conv cv;
            conv_init(in, &cv, c);
            int r = c->deftext ? sp__conv_text(&cv, &c->cb, c->deftext, strlen(c->deftext), err)
                               : sp__conv_null(&cv, &c->cb, err);
            sp__colbuf_truncate(&c->cb, 0);
            sp__arena_reset(&in->arena);
            in->batch_bytes = 0;
            if (r == SP_EDATA)
                rc = sp_error_set(err, SP_EDEF, 0, "DEFAULT %s: %s", def->default_expr,
                                  in->msg.data);
            else
                rc = r;
        }
    }
    if (rc)
        sp_error_prefix(err, "datasource '%s': column '%s'", in->ds->name, def->name);
    return rc;
}

int sp_ingest_new(sp_engine *e, const sp_datasource *ds, sp_ingest_format fmt,
                  int64_t now_unix, sp_ingest **out, sp_error *err)
{
    *out = NULL;
    if (!e || !ds || ds->ncols == 0)
        return sp_error_set(err, SP_EINVAL, 0, "ingest: %s",
                            ds ? "datasource has no columns" : "no datasource");
    sp_ingest *in = calloc(1, sizeof(*in));
    if (!in)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    in->e = e;
    in->ds = ds;
    in->fmt = fmt;
    in->now = now_unix;
    in->ncols = ds->ncols;
    in->lineno = 1;
    in->max_rows = MAX_ROWS;
    in->max_bytes = MAX_BATCH_BYTES;
    in->max_record = MAX_RECORD;
    sp_buf_init(&in->scratch, MAX_RECORD * 2);
    sp_buf_init(&in->msg, 4096);
    sp_buf_init(&in->ubuf, MAX_RECORD + 1);
    sp_buf_init(&in->pending, MAX_RECORD + 1);
    sp_buf_init(&in->fbuf, MAX_RECORD + 1);
    int rc = 0;
    in->cols = calloc(in->ncols, sizeof(*in->cols));
    in->views = calloc(in->ncols, sizeof(*in->views));
    in->map = calloc(in->ncols, sizeof(*in->map));
    in->schema.names = calloc(in->ncols, sizeof(char *));
    in->schema.types = calloc(in->ncols, sizeof(sp_type *));
    if (!in->cols || !in->views || !in->map || !in->schema.names || !in->schema.types)
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    for (size_t i = 0; i < in->ncols && !rc; i++) {
        in->map[i] = i;
        rc = col_setup(in, &in->cols[i], &ds->cols[i], err);
        if (!rc) {
            in->schema.names[i] = ds->cols[i].name;
            in->schema.types[i] = in->cols[i].type;
        }
    }
    in->schema.ncols = in->ncols;
    if (!rc && fmt == SP_INGEST_NDJSON) {
        /* the fast path, when every jsonpath is one it can follow */
        sp__jpath *paths = calloc(in->ncols, sizeof(*paths));
        if (!paths)
            rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        for (size_t i = 0; paths && i < in->ncols; i++)
            paths[i] = in->cols[i].path;
        if (!rc)
            rc = sp__scan_new(paths, in->ncols, &in->scan, err);
        free(paths);
        in->use_scan = 1;
    }
    if (rc) {
        sp_ingest_free(in);
        return rc;
    }
    *out = in;
    return 0;
}

void sp_ingest_free(sp_ingest *in)
{
    if (!in)
        return;
    for (size_t i = 0; in->cols && i < in->ncols; i++) {
        icol *c = &in->cols[i];
        sp__colbuf_release(&c->cb);
        sp__jpath_release(&c->path);
        sp_type_free(c->type);
        free(c->deftext);
    }
    free(in->cols);
    free(in->views);
    free(in->map);
    free(in->schema.names); /* the names belong to the datasource */
    free(in->schema.types); /* the types to the columns */
    free(in->q);
    free(in->fields);
    sp__arena_release(&in->arena);
    sp__arena_release(&in->qarena);
    sp__scan_free(in->scan);
    sp_buf_release(&in->ubuf);
    sp_buf_release(&in->scratch);
    sp_buf_release(&in->msg);
    sp_buf_release(&in->pending);
    sp_buf_release(&in->fbuf);
    free(in);
}

void sp__ingest_set_limits(sp_ingest *in, size_t max_rows, size_t max_bytes, size_t max_record)
{
    in->max_rows = max_rows ? max_rows : MAX_ROWS;
    in->max_bytes = max_bytes ? max_bytes : MAX_BATCH_BYTES;
    in->max_record = max_record ? max_record : MAX_RECORD;
}

void sp__ingest_use_scanner(sp_ingest *in, int on)
{
    in->use_scan = on;
}

int sp__ingest_scanning(const sp_ingest *in)
{
    return in->scan && in->use_scan;
}

uint64_t sp__ingest_fallbacks(const sp_ingest *in)
{
    return in->fallbacks;
}

size_t sp__ingest_mem(const sp_ingest *in)
{
    size_t m = in->pending.cap + in->fbuf.cap + in->scratch.cap + in->ubuf.cap +
               (in->scan ? sp__scan_mem(in->scan) : 0) + in->arena.held +
               in->qarena.held + in->qcap * sizeof(sp_qrow) + in->fcap * sizeof(field);
    for (size_t i = 0; i < in->ncols; i++)
        m += sp__colbuf_bytes(&in->cols[i].cb);
    return m;
}
