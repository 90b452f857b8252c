/* sp_ch_tsv: TabSeparatedWithNamesAndTypes -> sp_batches (see sp_ch_tsv.h).
 *
 * Layout of the text, as ClickHouse writes it: rows end with '\n'; fields
 * are separated by '\t'; scalar values are escaped (\t \n \\ \' \0 …), NULL
 * is \N; Array/Tuple/Map values are written in their quoted form
 * ([1,'a\'b',NULL], (1,'x'), {'k':1}) without a second level of escaping.
 * Text values are copied, unescaped, into one arena per batch; columns keep
 * offsets into it and get their pointers when the batch goes out. */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_ascii.h"
#include "sp_ch_tsv.h"
#include "sp_date.h"
#include "sp_error.h"
#include "sp_type.h"
#include "sp_time.h"
#include "sp_ch_escape.h"
#include "sp_banned.h"

#define LINE_MAX_BYTES ((size_t)256 << 20) /* one row */
#define ARENA_MAX ((size_t)1 << 30)
#define BATCH_TEXT ((size_t)4 << 20) /* a batch goes out past this much text */
#define EXC_MAX ((size_t)64 << 10)

enum phys { P_I64, P_U64, P_F64, P_STR, P_NEST };

typedef struct chcol {
    const sp_type *t;
    enum phys ph;
    size_t n, cap;
    uint8_t *nulls;
    int anynull;
    int64_t *i64;
    uint64_t *u64;
    double *f64;
    sp_str *str;
    size_t *soff;      /* arena offsets of str[] */
    uint64_t *offsets; /* ARRAY, MAP: cap + 1 */
    struct chcol *child;
    size_t nchild;
    sp_column *ccols; /* children's sp_columns */
} chcol;

struct sp_ch_tsv {
    size_t batch_rows;
    sp_schema_fn on_schema;
    sp_batch_fn on_batch;
    void *ud;
    int state; /* 0 names, 1 types, 2 rows, 3/4 a repeated header's names/types */
    sp_schema *schema;
    chcol *cols;
    sp_column *out; /* the batch's columns */
    size_t nrows;   /* rows in the batch */
    unsigned long long total;
    unsigned long long lineno;
    sp_buf pend;  /* an incomplete line */
    sp_buf arena; /* unescaped text of the batch */
    sp_buf tmp;
    int exc_mode;
    sp_buf exc; /* the appended exception */
};

/* ------------------------------------------------------------ escapes */


/* ------------------------------------------------------------ exceptions */

static int exc_code(const char *p, size_t n, size_t *after)
{
    if (n < 8 || memcmp(p, "Code: ", 6) != 0)
        return 0;
    size_t i = 6;
    int code = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9' && code < 100000)
        code = code * 10 + (p[i++] - '0');
    if (i == 6 || i >= n || (p[i] != ',' && p[i] != '.'))
        return 0;
    *after = i;
    return code;
}

static const char *find_mem(const char *h, size_t hn, const char *needle)
{
    return memmem(h, hn, needle, strlen(needle));
}

/* a line ClickHouse appends on an error after the body started: at the
 * start of the line, or (should a row be cut) after a partial row */
static int looks_exception(const char *p, size_t n)
{
    size_t after;
    if (exc_code(p, n, &after))
        return find_mem(p, n, "e.displayText() = ") != NULL ||
               find_mem(p, n, "DB::Exception") != NULL;
    for (const char *c = find_mem(p, n, "Code: "); c;) {
        size_t rest = n - (size_t)(c - p);
        if (exc_code(c, rest, &after) && (find_mem(c, rest, ", e.displayText() = DB::") ||
                                          find_mem(c, rest, ". DB::Exception: ")))
            return 1;
        c = rest > 1 ? find_mem(c + 1, rest - 1, "Code: ") : NULL;
    }
    return 0;
}

int sp_ch_code_retriable(int code)
{
    static const int transient[] = { 159, 202, 203, 209, 210, 242, 252, 285, 473, 999 };
    for (size_t i = 0; i < sizeof transient / sizeof transient[0]; i++)
        if (code == transient[i])
            return SP_RETRIABLE;
    return SP_FATAL;
}

int sp_ch_exception(const char *text, size_t n, char *out, size_t outsz)
{
    const char *p = find_mem(text, n, "Code: ");
    size_t after = 0;
    int code = 0;
    while (p && !(code = exc_code(p, n - (size_t)(p - text), &after))) {
        size_t off = (size_t)(p - text) + 1;
        p = off < n ? find_mem(text + off, n - off, "Code: ") : NULL;
    }
    if (!code)
        return 0;
    const char *m = p + after + 1, *end = text + n;
    while (m < end && *m == ' ')
        m++;
    const char *dt = find_mem(m, (size_t)(end - m), "e.displayText() = ");
    if (dt)
        m = dt + strlen("e.displayText() = ");
    const char *ex = find_mem(m, (size_t)(end - m), "DB::Exception: ");
    if (ex && ex - m < 8)
        m = ex + strlen("DB::Exception: ");
    const char *stop = find_mem(m, (size_t)(end - m), ", e.what() = ");
    if (!stop)
        stop = find_mem(m, (size_t)(end - m), " (version ");
    if (!stop)
        stop = end;
    /* keep one line; drop trailing blanks and a final full stop */
    const char *nl = memchr(m, '\n', (size_t)(stop - m));
    if (nl)
        stop = nl;
    /* a syntax error lists every token the parser expected: the start is enough */
    const char *exp = find_mem(m, (size_t)(stop - m), ". Expected one of: ");
    int cut_list = 0;
    if (exp && stop - exp > 160) {
        cut_list = 1;
        const char *cut = exp + 160;
        while (cut > exp && *cut != ',')
            cut--;
        stop = cut;
    }
    while (stop > m && (stop[-1] == ' ' || stop[-1] == '\r' || stop[-1] == '.'))
        stop--;
    size_t k = (size_t)(stop - m);
    if (outsz) {
        int w = snprintf(out, outsz, "%.*s%s (code %d)", (int)(k > 700 ? 700 : k), m,
                         cut_list ? ", …" : "", code);
        (void)w;
        for (char *c = out; *c; c++)
            if (*c == '\t' || *c == '\r' || *c == '\n')
                *c = ' ';
    }
    return code;
}

/* ------------------------------------------------------------ columns */

static enum phys phys_of(sp_kind k)
{
    if (sp_kind_is_signed(k) || k == SP_T_DATE || k == SP_T_DATE32 || k == SP_T_DATETIME ||
        k == SP_T_DATETIME64)
        return P_I64;
    if (sp_kind_is_unsigned(k))
        return P_U64;
    if (k == SP_T_FLOAT32 || k == SP_T_FLOAT64)
        return P_F64;
    if (k == SP_T_ARRAY || k == SP_T_MAP || k == SP_T_TUPLE)
        return P_NEST;
    return P_STR;
}

static void col_release(chcol *c)
{
    for (size_t i = 0; i < c->nchild; i++)
        col_release(&c->child[i]);
    free(c->child);
    free(c->ccols);
    free(c->nulls);
    free(c->i64);
    free(c->u64);
    free(c->f64);
    free(c->str);
    free(c->soff);
    free(c->offsets);
    memset(c, 0, sizeof *c);
}

static int col_init(chcol *c, const sp_type *t, sp_error *err)
{
    memset(c, 0, sizeof *c);
    c->t = t;
    c->ph = phys_of(t->kind);
    size_t nch = t->kind == SP_T_ARRAY ? 1 : t->kind == SP_T_MAP ? 2
               : t->kind == SP_T_TUPLE ? t->nelems : 0;
    if (!nch)
        return 0;
    c->child = calloc(nch, sizeof *c->child);
    c->ccols = calloc(nch, sizeof *c->ccols);
    if (!c->child || !c->ccols)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    c->nchild = nch;
    for (size_t i = 0; i < nch; i++) {
        const sp_type *ct = t->kind == SP_T_ARRAY ? t->elem
                          : t->kind == SP_T_MAP ? (i == 0 ? t->key : t->elem)
                          : t->elems[i];
        if (!ct)
            return sp_error_set(err, SP_EENGINE, 0, "result type without element type");
        int rc = col_init(&c->child[i], ct, err);
        if (rc)
            return rc;
    }
    return 0;
}

#define GROW(ptr, ncap)                                                   \
    do {                                                                  \
        void *np_ = realloc((ptr), (ncap) * sizeof *(ptr));               \
        if (!np_)                                                         \
            return sp_error_set(err, SP_ENOMEM, 0, "out of memory");      \
        (ptr) = np_;                                                      \
    } while (0)

/* room for one more value */
static int col_reserve(chcol *c, sp_error *err)
{
    if (c->n < c->cap)
        return 0;
    size_t nc = c->cap ? c->cap * 2 : 64;
    GROW(c->nulls, nc);
    switch (c->ph) {
    case P_I64: GROW(c->i64, nc); break;
    case P_U64: GROW(c->u64, nc); break;
    case P_F64: GROW(c->f64, nc); break;
    case P_STR:
        GROW(c->str, nc);
        GROW(c->soff, nc);
        break;
    case P_NEST:
        if (c->t->kind != SP_T_TUPLE) {
            GROW(c->offsets, nc + 1);
            if (!c->cap)
                c->offsets[0] = 0;
        }
        break;
    }
    c->cap = nc;
    return 0;
}

/* a zero value (the slot under a NULL) */
static int col_push_zero(chcol *c, int null, sp_error *err)
{
    int rc = col_reserve(c, err);
    if (rc)
        return rc;
    size_t i = c->n;
    c->nulls[i] = (uint8_t)null;
    if (null)
        c->anynull = 1;
    switch (c->ph) {
    case P_I64: c->i64[i] = 0; break;
    case P_U64: c->u64[i] = 0; break;
    case P_F64: c->f64[i] = 0; break;
    case P_STR:
        c->str[i].n = 0;
        c->soff[i] = 0;
        break;
    case P_NEST:
        if (c->t->kind == SP_T_TUPLE) {
            for (size_t k = 0; !rc && k < c->nchild; k++)
                rc = col_push_zero(&c->child[k], 0, err);
        } else {
            c->offsets[i + 1] = c->offsets[i];
        }
        break;
    }
    if (!rc)
        c->n++;
    return rc;
}

static void col_reset(chcol *c)
{
    c->n = 0;
    c->anynull = 0;
    if (c->offsets)
        c->offsets[0] = 0;
    for (size_t i = 0; i < c->nchild; i++)
        col_reset(&c->child[i]);
}

/* fill the sp_column view of c (pointers into the arena) */
static void col_view(chcol *c, sp_column *out, const sp_buf *arena)
{
    memset(out, 0, sizeof *out);
    out->type = c->t;
    out->nulls = c->anynull ? c->nulls : NULL;
    switch (c->ph) {
    case P_I64: out->v.i64 = c->i64; break;
    case P_U64: out->v.u64 = c->u64; break;
    case P_F64: out->v.f64 = c->f64; break;
    case P_STR:
        for (size_t i = 0; i < c->n; i++)
            c->str[i].p = arena->data ? arena->data + c->soff[i] : "";
        out->v.str = c->str;
        break;
    case P_NEST:
        out->offsets = c->offsets;
        for (size_t k = 0; k < c->nchild; k++)
            col_view(&c->child[k], &c->ccols[k], arena);
        out->child = c->ccols;
        out->nchild = c->nchild;
        break;
    }
}

/* ------------------------------------------------------------ scalars */

static int parse_u64(const char *p, size_t n, uint64_t *out)
{
    if (!n || n > 20)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int parse_i64(const char *p, size_t n, int64_t *out)
{
    int neg = n && p[0] == '-';
    uint64_t u;
    if (parse_u64(p + neg, n - (size_t)neg, &u))
        return -1;
    if (neg) {
        if (u > (uint64_t)INT64_MAX + 1)
            return -1;
        *out = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
    } else {
        if (u > (uint64_t)INT64_MAX)
            return -1;
        *out = (int64_t)u;
    }
    return 0;
}

static int digits(const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

static int parse_date(const char *p, size_t n, int64_t *days)
{
    int y, m, d;
    if (n != 10 || p[4] != '-' || p[7] != '-' || digits(p, 4, &y) || digits(p + 5, 2, &m) ||
        digits(p + 8, 2, &d))
        return -1;
    if (y == 0 && m == 0 && d == 0) {
        *days = 0; /* ClickHouse's zero date */
        return 0;
    }
    if (m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    *days = sp_days_from_civil(y, m, d);
    return 0;
}

/* "YYYY-MM-DD hh:mm:ss[.fff]" -> ticks of 10^-scale s */
static int parse_datetime(const char *p, size_t n, int scale, int64_t *out)
{
    int64_t days;
    int hh, mi, ss;
    if (n < 19 || p[10] != ' ' || p[13] != ':' || p[16] != ':' || digits(p + 11, 2, &hh) ||
        digits(p + 14, 2, &mi) || digits(p + 17, 2, &ss))
        return -1;
    if (parse_date(p, 10, &days))
        return -1;
    int64_t secs = days * 86400 + hh * 3600 + mi * 60 + ss;
    if (!memcmp(p, "0000-00-00", 10))
        secs = 0;
    int64_t mul = 1;
    for (int i = 0; i < scale; i++)
        mul *= 10;
    int64_t frac = 0;
    size_t i = 19;
    if (i < n) {
        if (p[i] != '.')
            return -1;
        i++;
        int got = 0;
        for (; i < n; i++, got++) {
            if (p[i] < '0' || p[i] > '9')
                return -1;
            if (got < scale)
                frac = frac * 10 + (p[i] - '0');
        }
        for (; got < scale; got++)
            frac *= 10;
    }
    /* the fraction counts forward from the second shown, before 1970 too */
    *out = secs * mul + frac;
    return 0;
}

static int parse_float(const char *p, size_t n, int f32, double *out)
{
    char b[80];
    if (!n || n >= sizeof b)
        return -1;
    memcpy(b, p, n);
    b[n] = '\0';
    char *end;
    errno = 0;
    double v;
    if (f32)
        v = (double)strtof(b, &end);
    else
        v = strtod(b, &end);
    if (end != b + n)
        return -1;
    *out = v;
    return 0;
}

/* Decimal text as the batch carries it (and ClickHouse 21.9+ prints it):
 * trailing fractional zeros dropped, "1.500" -> "1.5", "3.000" -> "3";
 * returns the new length */
static size_t dec_canon(const char *p, size_t n)
{
    const char *dot = memchr(p, '.', n);
    if (!dot)
        return n;
    while (n > (size_t)(dot - p) + 1 && p[n - 1] == '0')
        n--;
    if (n == (size_t)(dot - p) + 1)
        n--;
    return n;
}

/* a scalar from its plain text (already unescaped) */
static int put_scalar(sp_ch_tsv *r, chcol *c, const char *p, size_t n, sp_error *err)
{
    int rc = col_reserve(c, err);
    if (rc)
        return rc;
    size_t i = c->n;
    c->nulls[i] = 0;
    int bad = 0;
    switch (c->ph) {
    case P_I64:
        if (c->t->kind == SP_T_DATE || c->t->kind == SP_T_DATE32)
            bad = parse_date(p, n, &c->i64[i]);
        else if (c->t->kind == SP_T_DATETIME)
            bad = parse_datetime(p, n, 0, &c->i64[i]);
        else if (c->t->kind == SP_T_DATETIME64)
            bad = parse_datetime(p, n, c->t->scale, &c->i64[i]);
        else
            bad = parse_i64(p, n, &c->i64[i]);
        break;
    case P_U64:
        if (c->t->kind == SP_T_BOOL && n && (p[0] == 't' || p[0] == 'f')) {
            c->u64[i] = p[0] == 't';
            bad = !((n == 4 && !memcmp(p, "true", 4)) || (n == 5 && !memcmp(p, "false", 5)));
        } else {
            bad = parse_u64(p, n, &c->u64[i]);
        }
        break;
    case P_F64: bad = parse_float(p, n, c->t->kind == SP_T_FLOAT32, &c->f64[i]); break;
    case P_STR:
        if (c->t->kind == SP_T_DECIMAL)
            n = dec_canon(p, n);
        c->soff[i] = r->arena.len;
        c->str[i].n = n;
        rc = sp_buf_add(&r->arena, p, n, err);
        break;
    case P_NEST: bad = 1; break;
    }
    if (rc)
        return rc;
    if (bad)
        return sp_error_set(err, SP_EENGINE, 0, "result value '%.*s' is not a %s",
                            (int)(n > 60 ? 60 : n), p,
                            c->ph == P_I64 && c->t->kind >= SP_T_DATE ? "date/time"
                            : c->ph == P_F64                          ? "float"
                                                                      : "number");
    c->n++;
    return 0;
}

/* ------------------------------------------------------------ quoted form */

static int is_delim(char ch)
{
    return ch == ',' || ch == ']' || ch == ')' || ch == '}' || ch == ':';
}

static int q_value(sp_ch_tsv *r, chcol *c, const char **pp, const char *end, sp_error *err);

static int q_expect(const char **pp, const char *end, char ch, sp_error *err)
{
    while (*pp < end && **pp == ' ')
        (*pp)++;
    if (*pp >= end || **pp != ch)
        return sp_error_set(err, SP_EENGINE, 0, "malformed result value: expected '%c'", ch);
    (*pp)++;
    return 0;
}

/* [a,b,...] / {k:v,...} / (a,b,...) */
static int q_nested(sp_ch_tsv *r, chcol *c, const char **pp, const char *end, sp_error *err)
{
    sp_kind k = c->t->kind;
    char open = k == SP_T_ARRAY ? '[' : k == SP_T_MAP ? '{' : '(';
    char close = k == SP_T_ARRAY ? ']' : k == SP_T_MAP ? '}' : ')';
    int rc = q_expect(pp, end, open, err);
    if (!rc)
        rc = col_reserve(c, err);
    if (rc)
        return rc;
    size_t i = c->n;
    c->nulls[i] = 0;
    if (k == SP_T_TUPLE) {
        for (size_t e = 0; !rc && e < c->nchild; e++) {
            if (e)
                rc = q_expect(pp, end, ',', err);
            if (!rc)
                rc = q_value(r, &c->child[e], pp, end, err);
        }
        if (!rc)
            rc = q_expect(pp, end, ')', err);
    } else {
        size_t nelem = 0;
        while (!rc) {
            while (*pp < end && **pp == ' ')
                (*pp)++;
            if (*pp < end && **pp == close) {
                (*pp)++;
                break;
            }
            if (nelem)
                rc = q_expect(pp, end, ',', err);
            if (!rc)
                rc = q_value(r, &c->child[0], pp, end, err);
            if (!rc && k == SP_T_MAP) {
                rc = q_expect(pp, end, ':', err);
                if (!rc)
                    rc = q_value(r, &c->child[1], pp, end, err);
            }
            nelem++;
        }
        if (!rc)
            c->offsets[i + 1] = c->offsets[i] + nelem;
    }
    if (!rc)
        c->n++;
    return rc;
}

static int q_value(sp_ch_tsv *r, chcol *c, const char **pp, const char *end, sp_error *err)
{
    const char *p = *pp;
    while (p < end && *p == ' ')
        p++;
    if (end - p >= 4 && !memcmp(p, "NULL", 4) && (end - p == 4 || is_delim(p[4]))) {
        *pp = p + 4;
        return col_push_zero(c, 1, err);
    }
    *pp = p;
    if (c->ph == P_NEST)
        return q_nested(r, c, pp, end, err);
    if (p < end && *p == '\'') {
        sp_buf_reset(&r->tmp);
        sp_error e2 = SP_ERROR_INIT;
        int rc = sp_ch_unquote(&p, end, &r->tmp, &e2);
        if (rc)
            return rc == SP_EDATA
                       ? sp_error_set(err, SP_EENGINE, 0, "malformed result: unterminated string")
                       : sp_error_set(err, rc, 0, "%s", e2.msg);
        *pp = p;
        return put_scalar(r, c, r->tmp.data ? r->tmp.data : "", r->tmp.len, err);
    }
    const char *q = p;
    while (q < end && !is_delim(*q))
        q++;
    *pp = q;
    return put_scalar(r, c, p, (size_t)(q - p), err);
}

/* ------------------------------------------------------------ rows */

static int tsv_field(sp_ch_tsv *r, chcol *c, const char *f, size_t n, sp_error *err)
{
    if (n == 2 && f[0] == '\\' && f[1] == 'N') {
        if (!c->t->nullable && c->t->kind != SP_T_NOTHING && c->t->kind != SP_T_OTHER)
            return sp_error_set(err, SP_EENGINE, 0, "NULL in a column that is not Nullable");
        return col_push_zero(c, 1, err);
    }
    if (c->ph == P_NEST) {
        const char *p = f, *end = f + n;
        int rc = q_nested(r, c, &p, end, err);
        if (!rc && p != end)
            rc = sp_error_set(err, SP_EENGINE, 0, "malformed result value '%.*s'",
                              (int)(n > 60 ? 60 : n), f);
        return rc;
    }
    if (c->ph == P_STR && c->t->kind != SP_T_DECIMAL) {
        int rc = col_reserve(c, err);
        if (rc)
            return rc;
        size_t i = c->n, at = r->arena.len;
        rc = sp_ch_unescape(f, n, &r->arena, err);
        if (rc)
            return rc;
        c->nulls[i] = 0;
        c->soff[i] = at;
        c->str[i].n = r->arena.len - at;
        c->n++;
        return 0;
    }
    if (memchr(f, '\\', n)) {
        sp_buf_reset(&r->tmp);
        int rc = sp_ch_unescape(f, n, &r->tmp, err);
        return rc ? rc : put_scalar(r, c, r->tmp.data, r->tmp.len, err);
    }
    return put_scalar(r, c, f, n, err);
}

static int emit(sp_ch_tsv *r, sp_error *err)
{
    if (!r->nrows)
        return 0;
    size_t nc = r->schema->ncols;
    for (size_t i = 0; i < nc; i++)
        col_view(&r->cols[i], &r->out[i], &r->arena);
    sp_batch b = { r->nrows, nc, r->out };
    int rc = r->on_batch ? r->on_batch(r->ud, &b, err) : 0;
    r->total += r->nrows;
    r->nrows = 0;
    for (size_t i = 0; i < nc; i++)
        col_reset(&r->cols[i]);
    sp_buf_reset(&r->arena);
    return rc;
}

/* split a header line into unescaped fields: calls fn for each */
static int header_fields(sp_ch_tsv *r, const char *l, size_t n, char ***out, size_t *nout,
                         sp_error *err)
{
    size_t cnt = 1;
    for (size_t i = 0; i < n; i++)
        cnt += l[i] == '\t';
    char **v = calloc(cnt, sizeof *v);
    if (!v)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    const char *p = l, *end = l + n;
    int rc = 0;
    for (size_t k = 0; k < cnt && !rc; k++) {
        const char *t = memchr(p, '\t', (size_t)(end - p));
        if (!t)
            t = end;
        sp_buf_reset(&r->tmp);
        rc = sp_ch_unescape(p, (size_t)(t - p), &r->tmp, err);
        if (!rc && !(v[k] = strdup(r->tmp.data ? r->tmp.data : "")))
            rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        p = t + 1;
    }
    if (rc) {
        for (size_t k = 0; k < cnt; k++)
            free(v[k]);
        free(v);
        return rc;
    }
    *out = v;
    *nout = cnt;
    return 0;
}

/* DateTime('Europe/Berlin') comes as local time text: not converted */
/* a DateTime shown in another time zone than UTC (toTimeZone(t, 'Europe/
 * Madrid'), DateTime('…') columns) is carried as ClickHouse's text of it:
 * CSV and JSON write it quoted, as ClickHouse does, in its own zone */
static int local_times_as_text(sp_type *t, sp_error *err)
{
    if (!t)
        return 0;
    if ((t->kind == SP_T_DATETIME || t->kind == SP_T_DATETIME64) && t->tz && !sp_type_tz_is_utc(t->tz)) {
        int nullable = t->nullable, lc = t->low_cardinality;
        t->nullable = 0;
        t->low_cardinality = 0;
        sp_buf b = SP_BUF_INIT(4096);
        int rc = sp_type_format(t, &b, err);
        t->nullable = (uint8_t)nullable;
        t->low_cardinality = (uint8_t)lc;
        if (rc) {
            sp_buf_release(&b);
            return rc;
        }
        free(t->raw);
        t->raw = sp_buf_detach(&b);
        sp_buf_release(&b);
        if (!t->raw)
            return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        t->kind = SP_T_OTHER;
        return 0;
    }
    int rc = local_times_as_text(t->elem, err);
    if (!rc)
        rc = local_times_as_text(t->key, err);
    for (size_t i = 0; !rc && i < t->nelems; i++)
        rc = local_times_as_text(t->elems[i], err);
    return rc;
}

static int on_types(sp_ch_tsv *r, const char *l, size_t n, sp_error *err)
{
    char **types = NULL;
    size_t nt = 0;
    int rc = header_fields(r, l, n, &types, &nt, err);
    if (rc)
        return rc;
    if (nt != r->schema->ncols)
        rc = sp_error_set(err, SP_EENGINE, 0, "result has %zu names but %zu types",
                          r->schema->ncols, nt);
    for (size_t i = 0; !rc && i < nt; i++) {
        rc = sp_type_parse(types[i], &r->schema->types[i], err);
        if (rc)
            sp_error_prefix(err, "result column '%s'", r->schema->names[i]);
        else
            rc = local_times_as_text(r->schema->types[i], err);
    }
    for (size_t i = 0; i < nt; i++)
        free(types[i]);
    free(types);
    if (rc)
        return rc;
    r->cols = calloc(nt ? nt : 1, sizeof *r->cols);
    r->out = calloc(nt ? nt : 1, sizeof *r->out);
    if (!r->cols || !r->out)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    for (size_t i = 0; !rc && i < nt; i++)
        rc = col_init(&r->cols[i], r->schema->types[i], err);
    if (!rc && r->on_schema)
        rc = r->on_schema(r->ud, r->schema, err);
    return rc;
}

static int on_line(sp_ch_tsv *r, const char *l, size_t n, sp_error *err)
{
    r->lineno++;
    if (r->exc_mode) {
        if (r->exc.len + n + 1 < EXC_MAX) {
            sp_buf_add(&r->exc, l, n, NULL);
            sp_buf_addch(&r->exc, '\n', NULL);
        }
        return 0;
    }
    if (r->state == 0) {
        char **names = NULL;
        size_t nn = 0;
        int rc = header_fields(r, l, n, &names, &nn, err);
        if (rc)
            return rc;
        r->schema = sp_schema_new(nn);
        if (!r->schema) {
            for (size_t i = 0; i < nn; i++)
                free(names[i]);
            free(names);
            return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        }
        for (size_t i = 0; i < nn; i++)
            r->schema->names[i] = names[i];
        free(names);
        r->state = 1;
        return 0;
    }
    if (r->state == 3 || r->state == 4) {
        /* the header of a further document: the same as the first */
        r->state = r->state == 3 ? 4 : 2;
        if (looks_exception(l, n)) {
            r->exc_mode = 1;
            return on_line(r, l, n, err);
        }
        return 0;
    }
    if (r->state == 1) {
        r->state = 2;
        if (looks_exception(l, n)) { /* a single column called "Code: …"? no: an error */
            r->exc_mode = 1;
            return on_line(r, l, n, err);
        }
        return on_types(r, l, n, err);
    }
    if (looks_exception(l, n)) {
        r->exc_mode = 1;
        r->lineno--;
        return on_line(r, l, n, err);
    }
    size_t nc = r->schema->ncols;
    const char *p = l, *end = l + n;
    int rc = 0;
    for (size_t k = 0; k < nc && !rc; k++) {
        const char *t = k + 1 < nc ? memchr(p, '\t', (size_t)(end - p)) : end;
        if (!t || (k + 1 == nc && memchr(p, '\t', (size_t)(end - p)))) {
            rc = sp_error_set(err, SP_EENGINE, 0, "result row %llu does not have %zu fields",
                              r->total + r->nrows + 1, nc);
            break;
        }
        rc = tsv_field(r, &r->cols[k], p, (size_t)(t - p), err);
        p = t + 1;
    }
    if (rc) {
        /* the exception may follow a partly written row */
        char msg[800];
        int code = sp_ch_exception(l, n, msg, sizeof msg);
        if (code && err) {
            sp_error e2 = SP_ERROR_INIT;
            *err = e2;
            return sp_error_set(err, SP_ESQL, sp_ch_code_retriable(code), "%s", msg);
        }
        return rc;
    }
    r->nrows++;
    if (r->nrows >= r->batch_rows || r->arena.len >= BATCH_TEXT)
        return emit(r, err);
    return 0;
}

/* ------------------------------------------------------------ API */

/* error messages are one line: result names and values may hold newlines */
static int one_line(int rc, sp_error *err)
{
    if (rc && err)
        for (char *c = err->msg; *c; c++)
            if (*c == '\n' || *c == '\r' || *c == '\t')
                *c = ' ';
    return rc;
}

int sp_ch_tsv_new(size_t batch_rows, sp_schema_fn on_schema, sp_batch_fn on_batch, void *ud,
                  sp_ch_tsv **out, sp_error *err)
{
    sp_ch_tsv *r = calloc(1, sizeof *r);
    if (!r)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    r->batch_rows = batch_rows ? batch_rows : 2048;
    r->on_schema = on_schema;
    r->on_batch = on_batch;
    r->ud = ud;
    sp_buf_init(&r->pend, LINE_MAX_BYTES);
    sp_buf_init(&r->arena, ARENA_MAX);
    sp_buf_init(&r->tmp, LINE_MAX_BYTES);
    sp_buf_init(&r->exc, EXC_MAX);
    *out = r;
    return 0;
}

void sp_ch_tsv_free(sp_ch_tsv *r)
{
    if (!r)
        return;
    if (r->cols)
        for (size_t i = 0; i < r->schema->ncols; i++)
            col_release(&r->cols[i]);
    free(r->cols);
    free(r->out);
    sp_schema_free(r->schema);
    sp_buf_release(&r->pend);
    sp_buf_release(&r->arena);
    sp_buf_release(&r->tmp);
    sp_buf_release(&r->exc);
    free(r);
}

unsigned long long sp_ch_tsv_rows(const sp_ch_tsv *r)
{
    return r->total;
}

int sp_ch_tsv_feed(sp_ch_tsv *r, const char *p, size_t n, sp_error *err)
{
    const char *end = p + n;
    int rc = 0;
    if (r->pend.len) {
        const char *nl = memchr(p, '\n', n);
        size_t k = nl ? (size_t)(nl - p) : n;
        rc = sp_buf_add(&r->pend, p, k, err);
        if (rc) {
            sp_error_prefix(err, "result row");
            return rc;
        }
        if (!nl)
            return 0;
        rc = on_line(r, r->pend.data, r->pend.len, err);
        sp_buf_reset(&r->pend);
        p = nl + 1;
        if (rc)
            return one_line(rc, err);
    }
    while (!rc && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            rc = sp_buf_add(&r->pend, p, (size_t)(end - p), err);
            if (rc)
                sp_error_prefix(err, "result row");
            break;
        }
        rc = on_line(r, p, (size_t)(nl - p), err);
        p = nl + 1;
    }
    return one_line(rc, err);
}

static int finish(sp_ch_tsv *r, sp_error *err);

int sp_ch_tsv_doc_end(sp_ch_tsv *r, sp_error *err)
{
    if (r->pend.len)
        return sp_error_set(err, SP_EENGINE, 0, "the result ends in the middle of a row");
    if (r->state == 2)
        r->state = 3;
    return 0;
}

int sp_ch_tsv_finish(sp_ch_tsv *r, sp_error *err)
{
    return one_line(finish(r, err), err);
}

static int finish(sp_ch_tsv *r, sp_error *err)
{
    int rc = 0;
    if (r->pend.len) {
        /* no final newline: an appended exception, or a cut row */
        if (r->exc_mode || looks_exception(r->pend.data, r->pend.len)) {
            rc = on_line(r, r->pend.data, r->pend.len, err);
        } else {
            char msg[800];
            int code = sp_ch_exception(r->pend.data, r->pend.len, msg, sizeof msg);
            if (code)
                return sp_error_set(err, SP_ESQL, sp_ch_code_retriable(code), "%s", msg);
            return sp_error_set(err, SP_ENET, 1, "the result ends in the middle of a row");
        }
        sp_buf_reset(&r->pend);
    }
    if (r->exc_mode) {
        char msg[800];
        int code = sp_ch_exception(r->exc.data ? r->exc.data : "", r->exc.len, msg, sizeof msg);
        if (!code)
            snprintf(msg, sizeof msg, "the server reported an error after the result started");
        return sp_error_set(err, SP_ESQL, code ? sp_ch_code_retriable(code) : SP_FATAL, "%s",
                            msg);
    }
    if (r->state < 2)
        return sp_error_set(err, SP_EENGINE, 0, "the result has no %s line",
                            r->state == 0 ? "names" : "types");
    if (!rc)
        rc = emit(r, err);
    return rc;
}
