/* sp_ingest_path: the small pieces under ingest: a block arena, the
 * jsonpath subset Tinybird uses, compact JSON text and ClickHouse composite
 * literals (`[1,'a']`, `{'k':1}`) read into JSON trees. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_ascii.h"
#include "sp_error.h"
#include "sp_dtoa.h"
#include "sp_ingest_int.h"
#include "sp_banned.h"

/* ------------------------------------------------------------------ arena */

#define ARENA_BLOCK ((size_t)64 * 1024)

char *sp__arena_dup(sp__arena *a, const char *p, size_t n)
{
    for (;;) {
        if (a->cur < a->nb) {
            sp__ablock *b = &a->b[a->cur];
            if (b->cap - b->used >= n) {
                char *r = b->p + b->used;
                if (n)
                    memcpy(r, p, n);
                b->used += n;
                return r;
            }
            if (b->used == 0) { /* an empty block too small: grow it */
                size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
                char *np = realloc(b->p, cap);
                if (!np)
                    return NULL;
                a->held += cap - b->cap;
                b->p = np;
                b->cap = cap;
                continue;
            }
            if (a->cur + 1 < a->nb) {
                a->cur++;
                a->b[a->cur].used = 0;
                continue;
            }
        }
        sp__ablock *nb = realloc(a->b, (a->nb + 1) * sizeof(*nb));
        if (!nb)
            return NULL;
        a->b = nb;
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        nb[a->nb].p = malloc(cap);
        if (!nb[a->nb].p)
            return NULL;
        nb[a->nb].cap = cap;
        nb[a->nb].used = 0;
        a->held += cap;
        a->cur = a->nb;
        a->nb++;
    }
}

sp__amark sp__arena_mark(const sp__arena *a)
{
    sp__amark m = { a->cur, a->cur < a->nb ? a->b[a->cur].used : 0 };
    return m;
}

void sp__arena_rollback(sp__arena *a, sp__amark m)
{
    for (size_t i = m.cur + 1; i < a->nb; i++)
        a->b[i].used = 0;
    a->cur = m.cur;
    if (m.cur < a->nb)
        a->b[m.cur].used = m.used;
}

void sp__arena_reset(sp__arena *a)
{
    for (size_t i = 0; i < a->nb; i++)
        a->b[i].used = 0;
    a->cur = 0;
}

void sp__arena_release(sp__arena *a)
{
    for (size_t i = 0; i < a->nb; i++)
        free(a->b[i].p);
    free(a->b);
    memset(a, 0, sizeof(*a));
}

/* --------------------------------------------------------------- jsonpath */

static int jp_add(sp__jpath *p, sp__jpkind kind, const char *key, size_t klen, long index)
{
    sp__jpstep *ns = realloc(p->steps, (p->n + 1) * sizeof(*ns));
    if (!ns)
        return -1;
    p->steps = ns;
    sp__jpstep *s = &ns[p->n];
    s->kind = kind;
    s->index = index;
    s->key = NULL;
    if (kind == SP__JP_KEY) {
        s->key = malloc(klen + 1);
        if (!s->key)
            return -1;
        memcpy(s->key, key, klen);
        s->key[klen] = '\0';
    }
    p->n++;
    return 0;
}

int sp__jpath_parse(const char *text, sp__jpath *out, sp_error *err)
{
    out->steps = NULL;
    out->n = 0;
    const char *s = text;
    int rc = 0;
    if (*s != '$') {
        rc = -2;
        goto bad;
    }
    s++;
    while (*s && !rc) {
        if (*s == '.' && s[1] == '[') {
            s++; /* `$.['a b']`: the dot is optional before a bracket */
            continue;
        }
        if (*s == '.') {
            s++;
            const char *k = s;
            while (*s && *s != '.' && *s != '[')
                s++;
            if (s == k) {
                rc = -2;
                break;
            }
            rc = jp_add(out, SP__JP_KEY, k, (size_t)(s - k), 0);
        } else if (*s == '[') {
            s++;
            if (*s == '\'' || *s == '"') {
                char q = *s++;
                const char *k = s;
                while (*s && *s != q)
                    s++;
                if (*s != q || s[1] != ']') {
                    rc = -2;
                    break;
                }
                rc = jp_add(out, SP__JP_KEY, k, (size_t)(s - k), 0);
                s += 2;
            } else if (s[0] == ':' && s[1] == ']') {
                rc = jp_add(out, SP__JP_ALL, NULL, 0, 0);
                s += 2;
            } else if (s[0] == '*' && s[1] == ']') {
                rc = jp_add(out, SP__JP_ALL, NULL, 0, 0);
                s += 2;
            } else {
                char *end;
                long v = strtol(s, &end, 10);
                if (end == s || *end != ']') {
                    rc = -2;
                    break;
                }
                rc = jp_add(out, SP__JP_INDEX, NULL, 0, v);
                s = end + 1;
            }
        } else {
            rc = -2;
        }
    }
    if (!rc)
        return 0;
bad:
    sp__jpath_release(out);
    if (rc == -1)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    return sp_error_set(err, SP_EDEF, 0,
                        "jsonpath '%s': not understood (expected $.a.b, $.a[0], "
                        "$.['a b'], $.a[:] or $.a[:].b)", text);
}

void sp__jpath_release(sp__jpath *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->steps[i].key);
    free(p->steps);
    p->steps = NULL;
    p->n = 0;
}

/* eval from step i; borrowed result unless *owned is set */
static json_t *jp_eval(const sp__jpath *p, size_t i, json_t *v)
{
    for (; i < p->n && v; i++) {
        const sp__jpstep *s = &p->steps[i];
        if (s->kind == SP__JP_KEY) {
            v = json_is_object(v) ? json_object_get(v, s->key) : NULL;
        } else if (s->kind == SP__JP_INDEX) {
            if (!json_is_array(v))
                return NULL;
            long n = (long)json_array_size(v);
            long k = s->index < 0 ? n + s->index : s->index;
            v = (k >= 0 && k < n) ? json_array_get(v, (size_t)k) : NULL;
        } else {
            /* [:]: the rest of the path from every element; the elements
             * where it matches nothing are left out (jsonpath semantics) */
            if (!json_is_array(v))
                return NULL;
            json_t *res = json_array();
            if (!res)
                return NULL;
            size_t k;
            json_t *el;
            json_array_foreach(v, k, el) {
                json_t *r = jp_eval(p, i + 1, el);
                if (r && json_array_append_new(res, r)) {
                    json_decref(res);
                    return NULL;
                }
            }
            return res;
        }
    }
    return json_incref(v);
}

json_t *sp__jpath_eval(const sp__jpath *p, json_t *root)
{
    return jp_eval(p, 0, root);
}

/* ------------------------------------------------------------ JSON text */

/* shortest round-trip text (sp_dtoa: the formatters' hot-path code, far
 * cheaper than a printf/strtod search); 0 when buf is too small */
size_t sp__fmt_double(double v, char *buf, size_t size)
{
    char tmp[SP_DTOA_BUFSIZE];
    size_t n = sp_dtoa(v, tmp);
    if (n >= size)
        return 0;
    memcpy(buf, tmp, n);
    buf[n] = '\0';
    return n;
}

size_t sp__fmt_i64(int64_t v, char *buf)
{
    char tmp[24];
    size_t n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t k = 0;
    if (v < 0)
        buf[k++] = '-';
    while (n)
        buf[k++] = tmp[--n];
    return k;
}

int sp__json_str(const char *s, size_t n, sp_buf *out, sp_error *err)
{
    int rc = sp_buf_addch(out, '"', err);
    size_t run = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rc = sp_buf_add(out, s + run, i - run, err);
        run = i + 1;
        if (rc)
            break;
        switch (c) {
        case '"': rc = sp_buf_adds(out, "\\\"", err); break;
        case '\\': rc = sp_buf_adds(out, "\\\\", err); break;
        case '\n': rc = sp_buf_adds(out, "\\n", err); break;
        case '\r': rc = sp_buf_adds(out, "\\r", err); break;
        case '\t': rc = sp_buf_adds(out, "\\t", err); break;
        default: rc = sp_buf_addf(out, err, "\\u%04x", c); break;
        }
    }
    if (!rc)
        rc = sp_buf_add(out, s + run, n - run, err);
    return rc ? rc : sp_buf_addch(out, '"', err);
}

int sp__json_compact(json_t *v, sp_buf *out, sp_error *err)
{
    return sp__json_compact_bn(v, out, 0, err);
}

const char *sp__bignum_text(json_t *v, int bignum, size_t *n)
{
    if (!bignum || !json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (len < 2 || s[0] != '\0')
        return NULL;
    *n = len - 1;
    return s + 1;
}

/* does the integer text [-]digits fit json_int_t (int64)? */
static int fits_i64(const char *s, size_t n)
{
    int neg = n && s[0] == '-';
    uint64_t v = 0;
    for (size_t i = (size_t)neg; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    return neg ? v <= (uint64_t)INT64_MAX + 1 : v <= (uint64_t)INT64_MAX;
}

int sp__json_bignum_rewrite(const char *p, size_t n, sp_buf *out)
{
    if (memmem(p, n, "\\u0000", 6))
        return 0; /* a NUL of its own: the marker would be ambiguous */
    sp_buf_reset(out);
    size_t i = 0, run = 0;
    int found = 0;
    while (i < n) {
        char c = p[i];
        if (c == '"') { /* skip the string */
            for (i++; i < n && p[i] != '"'; i++)
                if (p[i] == '\\')
                    i++;
            i++;
            continue;
        }
        if (c != '-' && (c < '0' || c > '9')) {
            i++;
            continue;
        }
        size_t st = i, e = i + (c == '-');
        while (e < n && p[e] >= '0' && p[e] <= '9')
            e++;
        int integer = e > st + (c == '-') &&
                      !(e < n && (p[e] == '.' || p[e] == 'e' || p[e] == 'E'));
        while (e < n && ((p[e] >= '0' && p[e] <= '9') || p[e] == '.' || p[e] == 'e' ||
                         p[e] == 'E' || p[e] == '+' || p[e] == '-'))
            e++;
        if (integer && e - st <= 80 && !fits_i64(p + st, e - st)) {
            if (sp_buf_add(out, p + run, st - run, NULL) || sp_buf_adds(out, "\"\\u0000", NULL) ||
                sp_buf_add(out, p + st, e - st, NULL) || sp_buf_addch(out, '"', NULL))
                return 0;
            run = e;
            found = 1;
        }
        i = e;
    }
    if (!found || sp_buf_add(out, p + run, n - run, NULL))
        return 0;
    return 1;
}

int sp__json_compact_bn(json_t *v, sp_buf *out, int bignum, sp_error *err)
{
    char num[40];
    int rc = 0;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *x;
        int first = 1;
        rc = sp_buf_addch(out, '{', err);
        json_object_foreach(v, k, x) {
            if (rc)
                break;
            if (!first)
                rc = sp_buf_addch(out, ',', err);
            first = 0;
            if (!rc)
                rc = sp__json_str(k, strlen(k), out, err);
            if (!rc)
                rc = sp_buf_addch(out, ':', err);
            if (!rc)
                rc = sp__json_compact_bn(x, out, bignum, err);
        }
        return rc ? rc : sp_buf_addch(out, '}', err);
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *x;
        rc = sp_buf_addch(out, '[', err);
        json_array_foreach(v, i, x) {
            if (!rc && i)
                rc = sp_buf_addch(out, ',', err);
            if (!rc)
                rc = sp__json_compact_bn(x, out, bignum, err);
        }
        return rc ? rc : sp_buf_addch(out, ']', err);
    }
    case JSON_STRING: {
        size_t bn;
        const char *b = sp__bignum_text(v, bignum, &bn);
        if (b)
            return sp_buf_add(out, b, bn, err);
        return sp__json_str(json_string_value(v), json_string_length(v), out, err);
    }
    case JSON_INTEGER:
        return sp_buf_add(out, num, sp__fmt_i64(json_integer_value(v), num), err);
    case JSON_REAL: {
        size_t n = sp__fmt_double(json_real_value(v), num, sizeof(num));
        return sp_buf_add(out, num, n, err);
    }
    case JSON_TRUE:
        return sp_buf_adds(out, "true", err);
    case JSON_FALSE:
        return sp_buf_adds(out, "false", err);
    case JSON_NULL:
    default:
        return sp_buf_adds(out, "null", err);
    }
}

/* ------------------------------------------------- composite literals */

typedef struct lit {
    const char *s, *end;
    sp_buf tmp;
    int depth;
} lit;

static void lit_ws(lit *l)
{
    while (l->s < l->end && (*l->s == ' ' || *l->s == '\t' || *l->s == '\n' || *l->s == '\r'))
        l->s++;
}

static void put_utf8(sp_buf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    sp_buf_add(b, u, n, NULL);
}

static json_t *lit_value(lit *l);

static json_t *lit_quoted(lit *l)
{
    char q = *l->s++;
    sp_buf_reset(&l->tmp);
    while (l->s < l->end && *l->s != q) {
        char c = *l->s++;
        if (c == '\\' && l->s < l->end) {
            c = *l->s++;
            switch (c) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case '0': c = '\0'; break;
            case 'x':
                if (l->end - l->s >= 2 && sp_hexval(l->s[0]) >= 0 && sp_hexval(l->s[1]) >= 0) {
                    c = (char)(sp_hexval(l->s[0]) * 16 + sp_hexval(l->s[1]));
                    l->s += 2;
                }
                break;
            case 'u':
                if (l->end - l->s >= 4) {
                    unsigned cp = 0;
                    int ok = 1;
                    for (int i = 0; i < 4; i++) {
                        int h = sp_hexval(l->s[i]);
                        ok &= h >= 0;
                        cp = cp * 16 + (unsigned)(h < 0 ? 0 : h);
                    }
                    if (ok) {
                        l->s += 4;
                        put_utf8(&l->tmp, cp);
                        continue;
                    }
                }
                break;
            default: break; /* \\ \' \" and anything else: the char itself */
            }
        }
        if (sp_buf_addch(&l->tmp, c, NULL))
            return NULL;
    }
    if (l->s >= l->end)
        return NULL;
    l->s++;
    return json_stringn(l->tmp.data ? l->tmp.data : "", l->tmp.len);
}

static json_t *lit_seq(lit *l, char close, int is_map)
{
    json_t *res = is_map ? json_object() : json_array();
    if (!res)
        return NULL;
    l->s++;
    lit_ws(l);
    if (l->s < l->end && *l->s == close) {
        l->s++;
        return res;
    }
    for (;;) {
        json_t *k = lit_value(l);
        if (!k)
            goto bad;
        if (is_map) {
            lit_ws(l);
            if (l->s >= l->end || *l->s != ':' || !json_is_string(k)) {
                json_decref(k);
                goto bad;
            }
            l->s++;
            json_t *v = lit_value(l);
            if (!v) {
                json_decref(k);
                goto bad;
            }
            int r = json_object_setn_new(res, json_string_value(k), json_string_length(k), v);
            json_decref(k);
            if (r)
                goto bad;
        } else if (json_array_append_new(res, k)) {
            goto bad;
        }
        lit_ws(l);
        if (l->s < l->end && *l->s == ',') {
            l->s++;
            continue;
        }
        if (l->s < l->end && *l->s == close) {
            l->s++;
            return res;
        }
        goto bad;
    }
bad:
    json_decref(res);
    return NULL;
}

static json_t *lit_value(lit *l)
{
    lit_ws(l);
    if (l->s >= l->end || ++l->depth > 64)
        return NULL;
    json_t *r;
    char c = *l->s;
    if (c == '[')
        r = lit_seq(l, ']', 0);
    else if (c == '(')
        r = lit_seq(l, ')', 0);
    else if (c == '{')
        r = lit_seq(l, '}', 1);
    else if (c == '\'' || c == '"')
        r = lit_quoted(l);
    else {
        const char *b = l->s;
        while (l->s < l->end && !strchr(",:]})", *l->s))
            l->s++;
        const char *e = l->s;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e == b)
            r = NULL;
        else if ((e - b == 4 && (!memcmp(b, "NULL", 4) || !memcmp(b, "null", 4))) ||
                 (e - b == 2 && !memcmp(b, "\\N", 2)))
            r = json_null();
        else
            r = json_stringn(b, (size_t)(e - b));
    }
    l->depth--;
    return r;
}

json_t *sp__literal_parse(const char *s, size_t n)
{
    lit l = { s, s + n, SP_BUF_INIT(SP_BUF_DEFAULT_MAX), 0 };
    json_t *v = lit_value(&l);
    lit_ws(&l);
    if (v && l.s != l.end) {
        json_decref(v);
        v = NULL;
    }
    sp_buf_release(&l.tmp);
    return v;
}
