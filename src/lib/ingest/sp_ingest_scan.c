/* sp_ingest_scan: validate one NDJSON record and find the columns' values
 * in a single pass, with no tree and no allocation per value (see
 * sp_ingest_scan.h for the contract with jansson, the reference).
 *
 * The jsonpaths are compiled into a trie of keys whose nodes are laid out
 * so that each node's children are contiguous and each subtree's value
 * slots are a range: a key seen again (jansson keeps the last value)
 * clears its subtree's slots before its new value is scanned. */
#include "sp_ingest_scan.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sp_error.h"
#include "sp_banned.h"

#define SCAN_MAX_DEPTH 512  /* jansson allows 2048; deeper records fall back */
#define WALK_MAX_DEPTH 64   /* sp__jv_compact / distinctkeys: deeper falls back */
#define WALK_MAX_KEYS 1024  /* keys open at once in those walks */
#define KEYS_PER_OBJECT 256 /* compared pairwise; more fall back */
#define BIGNUM_MAX 80       /* longest integer sp__json_bignum_rewrite rewrites */
#define PATH_MAX_STEPS 64   /* longer jsonpaths are left to jansson */

typedef struct snode {
    const char *key; /* borrowed from the jsonpath */
    size_t klen;
    size_t kid0, nkid; /* children: nodes[kid0 .. kid0 + nkid) */
    size_t hint;       /* the child after the last one matched */
    long slot;         /* a column's path ends here: its slot, else -1 */
    size_t lo, hi;     /* the slots of this subtree, this node's included */
} snode;

struct sp__scan {
    snode *nodes;
    size_t nnodes;
    sp__jv *slots;
    size_t nslots;
    size_t *colslot; /* column -> slot */
    size_t ncols;
    sp_buf kbuf;     /* an escaped key, decoded */
    int oom;
    int big;         /* the record holds an integer beyond int64 */
};

/* ------------------------------------------------------------- building */

static void assign_slots(sp__scan *s, size_t x)
{
    snode *nd = &s->nodes[x];
    nd->lo = s->nslots;
    if (nd->slot >= 0)
        nd->slot = (long)s->nslots++;
    for (size_t k = 0; k < nd->nkid; k++)
        assign_slots(s, nd->kid0 + k);
    s->nodes[x].hi = s->nslots;
}

int sp__scan_new(const sp__jpath *paths, size_t n, sp__scan **out, sp_error *err)
{
    *out = NULL;
    size_t steps = 0;
    for (size_t i = 0; i < n; i++) {
        if (paths[i].n == 0 || paths[i].n > PATH_MAX_STEPS)
            return 0; /* `$` (the whole record), or absurdly long */
        for (size_t k = 0; k < paths[i].n; k++)
            if (paths[i].steps[k].kind != SP__JP_KEY)
                return 0;
        steps += paths[i].n;
    }
    sp__scan *s = calloc(1, sizeof(*s));
    size_t *perm = calloc(n + 1, sizeof(*perm));
    size_t *tmp = calloc(n + 1, sizeof(*tmp));
    size_t *colnode = calloc(n + 1, sizeof(*colnode));
    size_t *ra = calloc(steps + 1, sizeof(*ra));
    size_t *rb = calloc(steps + 1, sizeof(*rb));
    size_t *dep = calloc(steps + 1, sizeof(*dep));
    unsigned char *done = calloc(n + 1, 1);
    int rc = 0;
    if (s) {
        s->nodes = calloc(steps + 1, sizeof(*s->nodes));
        s->slots = calloc(n + 1, sizeof(*s->slots));
        s->colslot = calloc(n + 1, sizeof(*s->colslot));
        sp_buf_init(&s->kbuf, (size_t)1 << 30);
    }
    if (!s || !perm || !tmp || !colnode || !ra || !rb || !dep || !done || !s->nodes ||
        !s->slots || !s->colslot) {
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        goto out;
    }
    /* breadth first: node x holds the columns perm[ra[x] .. rb[x]) whose
     * paths pass through it, dep[x] steps deep */
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    s->nnodes = 1;
    s->nodes[0].slot = -1;
    ra[0] = 0;
    rb[0] = n;
    for (size_t x = 0; x < s->nnodes; x++) {
        size_t a = ra[x], b = rb[x], d = dep[x], t = 0;
        snode *nd = &s->nodes[x];
        nd->slot = -1;
        for (size_t k = a; k < b; k++) {
            done[perm[k]] = 0;
            if (paths[perm[k]].n == d) {
                tmp[t++] = perm[k];
                colnode[perm[k]] = x;
                done[perm[k]] = 1;
                nd->slot = 0; /* numbered below */
            }
        }
        nd->kid0 = s->nnodes;
        for (size_t k = a; k < b; k++) {
            if (done[perm[k]])
                continue;
            const char *key = paths[perm[k]].steps[d].key;
            size_t y = s->nnodes++;
            snode *kid = &s->nodes[y];
            kid->key = key;
            kid->klen = strlen(key);
            ra[y] = a + t;
            for (size_t j = k; j < b; j++) {
                if (!done[perm[j]] && !strcmp(paths[perm[j]].steps[d].key, key)) {
                    tmp[t++] = perm[j];
                    done[perm[j]] = 1;
                }
            }
            rb[y] = a + t;
            dep[y] = d + 1;
            s->nodes[x].nkid++;
        }
        memcpy(perm + a, tmp, t * sizeof(*perm));
    }
    assign_slots(s, 0);
    s->ncols = n;
    for (size_t i = 0; i < n; i++)
        s->colslot[i] = (size_t)s->nodes[colnode[i]].slot;
out:
    free(perm);
    free(tmp);
    free(colnode);
    free(ra);
    free(rb);
    free(dep);
    free(done);
    if (rc) {
        sp__scan_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void sp__scan_free(sp__scan *s)
{
    if (!s)
        return;
    free(s->nodes);
    free(s->slots);
    free(s->colslot);
    sp_buf_release(&s->kbuf);
    free(s);
}

const sp__jv *sp__scan_get(const sp__scan *s, size_t i)
{
    return &s->slots[s->colslot[i]];
}

size_t sp__scan_mem(const sp__scan *s)
{
    return s->kbuf.cap + s->nnodes * sizeof(snode) + s->ncols * (sizeof(sp__jv) + 8);
}

/* ------------------------------------------------------------- lexing */

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

static inline int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline const char *ws(const char *p, const char *e)
{
    while (p < e && (unsigned char)*p <= ' ' && is_ws(*p))
        p++;
    return p;
}

static inline int isdig(char c)
{
    return c >= '0' && c <= '9';
}

static inline int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* four hex digits at p (bounded by e), or -1 */
static long hex4(const char *p, const char *e)
{
    if (e - p < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexv(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* an escape at p (the backslash); the byte after it, or NULL.  Sets *nul
 * for \u0000 (a NUL in a key is an error for jansson). */
static const char *scan_esc(const char *p, const char *e, int *nul)
{
    if (e - p < 2)
        return NULL;
    switch (p[1]) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        return p + 2;
    case 'u': {
        long cp = hex4(p + 2, e);
        if (cp < 0)
            return NULL;
        p += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) { /* a pair, or an error */
            if (e - p < 2 || p[0] != '\\' || p[1] != 'u')
                return NULL;
            long lo = hex4(p + 2, e);
            if (lo < 0xDC00 || lo > 0xDFFF)
                return NULL;
            return p + 6;
        }
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return NULL;
        if (cp == 0)
            *nul = 1;
        return p;
    }
    default:
        return NULL;
    }
}

/* a UTF-8 sequence at p (first byte >= 0x80): strict, as jansson's
 * utf8_check_first/utf8_check_full (no overlongs, surrogates or values
 * beyond U+10FFFF); the byte after it, or NULL */
static const char *scan_utf8(const char *p, const char *e)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t left = (size_t)(e - p);
    unsigned c = u[0];
    if (c >= 0xC2 && c <= 0xDF) {
        if (left < 2 || (u[1] & 0xC0) != 0x80)
            return NULL;
        return p + 2;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (left < 3 || (u[1] & 0xC0) != 0x80 || (u[2] & 0xC0) != 0x80 ||
            (c == 0xE0 && u[1] < 0xA0) || (c == 0xED && u[1] > 0x9F))
            return NULL;
        return p + 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (left < 4 || (u[1] & 0xC0) != 0x80 || (u[2] & 0xC0) != 0x80 ||
            (u[3] & 0xC0) != 0x80 || (c == 0xF0 && u[1] < 0x90) || (c == 0xF4 && u[1] > 0x8F))
            return NULL;
        return p + 4;
    }
    return NULL;
}

/* the bytes of x that end a plain run: '"', '\\', < 0x20, >= 0x80 (the
 * lowest flagged byte is exact: false flags only follow a true one) */
static inline uint64_t special8(uint64_t x)
{
    uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');
    return (((x - ONES * 0x20) & ~x) | ((q - ONES) & ~q) | ((b - ONES) & ~b) | x) & HIGHS;
}

/* a string body from p (after the opening quote); the byte after the
 * closing quote, or NULL */
static const char *scan_str(const char *p, const char *e, int *esc, int *nul)
{
    for (;;) {
        if (e - p >= 8) {
            uint64_t x;
            memcpy(&x, p, 8);
            uint64_t t = special8(x);
            if (!t) {
                p += 8;
                continue;
            }
            p += __builtin_ctzll(t) >> 3;
        } else {
            if (p >= e)
                return NULL;
            unsigned char c = (unsigned char)*p;
            if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
                p++;
                continue;
            }
        }
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c == '\\') {
            *esc = 1;
            p = scan_esc(p, e, nul);
        } else if (c < 0x20) {
            return NULL; /* a control character */
        } else {
            p = scan_utf8(p, e);
        }
        if (!p)
            return NULL;
    }
}

/* strtod of a number token (not NUL-terminated); 0, or -1 on ENOMEM */
static int token_strtod(const char *p, size_t n, double *out)
{
    char stack[128];
    char *b = n < sizeof(stack) ? stack : malloc(n + 1);
    if (!b)
        return -1;
    memcpy(b, p, n);
    b[n] = '\0';
    *out = strtod(b, NULL);
    if (b != stack)
        free(b);
    return 0;
}

/* a number at p: as jansson's lex_scan_number.  An integer beyond int64
 * is a BIG (what jansson's bignum rewrite makes a marker string of; s->big
 * notes it) up to BIGNUM_MAX characters, rejected beyond (the rewrite
 * leaves it: jansson's error stays); a real that overflows is rejected
 * (jansson's error). */
static const char *scan_num(sp__scan *s, const char *p, const char *e, sp__jv *v)
{
    const char *st = p;
    int neg = *p == '-';
    if (neg)
        p++;
    if (p >= e)
        return NULL;
    const char *ib = p;
    if (*p == '0') {
        p++;
        if (p < e && isdig(*p))
            return NULL;
    } else if (isdig(*p)) {
        while (p < e && isdig(*p))
            p++;
    } else {
        return NULL;
    }
    const char *ie = p;
    if (p < e && (*p == '.' || *p == 'e' || *p == 'E')) {
        long ex = 0;
        if (*p == '.') {
            p++;
            if (p >= e || !isdig(*p))
                return NULL;
            while (p < e && isdig(*p))
                p++;
        }
        if (p < e && (*p == 'e' || *p == 'E')) {
            p++;
            int eneg = 0;
            if (p < e && (*p == '+' || *p == '-'))
                eneg = *p++ == '-';
            if (p >= e || !isdig(*p))
                return NULL;
            for (; p < e && isdig(*p); p++)
                if (ex < 1000000)
                    ex = ex * 10 + (*p - '0');
            if (eneg)
                ex = -ex;
        }
        v->t = SP__JV_REAL;
        v->p = st;
        v->n = (size_t)(p - st);
        /* below 10^307 nothing overflows; above, ask strtod (jansson
         * refuses +-HUGE_VAL) */
        if ((long)(ie - ib) + ex > 307) {
            double d;
            if (token_strtod(st, v->n, &d) || isinf(d))
                return NULL;
        }
        return p;
    }
    v->p = st;
    v->n = (size_t)(p - st);
    uint64_t m = 0;
    for (const char *q = ib; q < ie && q - ib < 19; q++)
        m = m * 10 + (uint64_t)(*q - '0');
    if (ie - ib > 19 || m > (uint64_t)INT64_MAX + (uint64_t)neg) {
        /* too big for json_int_t */
        if (v->n > BIGNUM_MAX)
            return NULL;
        if (s)
            s->big = 1;
        v->t = SP__JV_BIG;
        return p;
    }
    v->t = SP__JV_INT;
    v->i = neg ? (m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m) : (int64_t)m;
    return p;
}

static const char *scan_obj(sp__scan *s, snode *node, const char *p, const char *e, int depth);

static const char *scan_arr(sp__scan *s, const char *p, const char *e, int depth);

/* a value at p; node when its object members are looked up.  s is the
 * scanner while a record is scanned, NULL when a scanned value is read
 * again. */
static const char *scan_val(sp__scan *s, snode *node, const char *p, const char *e, int depth,
                            sp__jv *v)
{
    if (p >= e)
        return NULL;
    const char *q;
    switch (*p) {
    case '"': {
        int esc = 0, nul = 0;
        q = scan_str(p + 1, e, &esc, &nul);
        if (!q)
            return NULL;
        v->t = SP__JV_STR;
        v->esc = esc;
        v->p = p + 1;
        v->n = (size_t)(q - p - 2);
        return q;
    }
    case '{':
        if (depth >= SCAN_MAX_DEPTH)
            return NULL;
        q = scan_obj(s, node, p + 1, e, depth + 1);
        if (!q)
            return NULL;
        v->t = SP__JV_OBJ;
        v->p = p;
        v->n = (size_t)(q - p);
        return q;
    case '[':
        if (depth >= SCAN_MAX_DEPTH)
            return NULL;
        q = scan_arr(s, p + 1, e, depth + 1);
        if (!q)
            return NULL;
        v->t = SP__JV_ARR;
        v->p = p;
        v->n = (size_t)(q - p);
        return q;
    case 't':
        if (e - p < 4 || memcmp(p, "true", 4))
            return NULL;
        v->t = SP__JV_TRUE;
        return p + 4;
    case 'f':
        if (e - p < 5 || memcmp(p, "false", 5))
            return NULL;
        v->t = SP__JV_FALSE;
        return p + 5;
    case 'n':
        if (e - p < 4 || memcmp(p, "null", 4))
            return NULL;
        v->t = SP__JV_NULL;
        return p + 4;
    default:
        return scan_num(s, p, e, v);
    }
}

static const char *scan_arr(sp__scan *s, const char *p, const char *e, int depth)
{
    p = ws(p, e);
    if (p < e && *p == ']')
        return p + 1;
    for (;;) {
        sp__jv v;
        p = scan_val(s, NULL, p, e, depth, &v);
        if (!p)
            return NULL;
        p = ws(p, e);
        if (p >= e)
            return NULL;
        if (*p == ']')
            return p + 1;
        if (*p != ',')
            return NULL;
        p = ws(p + 1, e);
    }
}

/* decode a validated string body (escapes as jansson decodes them) into
 * out, which has room for n bytes; the decoded length */
static size_t decode(const char *p, size_t n, char *out)
{
    const char *e = p + n;
    char *o = out;
    for (;;) {
        /* runs between escapes are short in practice (\" every few
         * bytes of an embedded JSON text): a loop beats memchr + memcpy */
        while (p < e && *p != '\\')
            *o++ = *p++;
        if (p == e)
            break;
        char c = p[1];
        p += 2;
        switch (c) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned long cp = (unsigned long)hex4(p, e);
            p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned long lo = (unsigned long)hex4(p + 2, e);
                p += 6;
                cp = ((cp - 0xD800) << 10) + (lo - 0xDC00) + 0x10000;
            }
            if (cp < 0x80) {
                *o++ = (char)cp;
            } else if (cp < 0x800) {
                *o++ = (char)(0xC0 | (cp >> 6));
                *o++ = (char)(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                *o++ = (char)(0xE0 | (cp >> 12));
                *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
                *o++ = (char)(0x80 | (cp & 0x3F));
            } else {
                *o++ = (char)(0xF0 | (cp >> 18));
                *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
                *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
                *o++ = (char)(0x80 | (cp & 0x3F));
            }
            break;
        }
        default: *o++ = c; break; /* " \ / */
        }
    }
    return (size_t)(o - out);
}

/* the trie child of node named by the key kb[0..kn) (raw; esc: holds
 * escapes), or NULL */
static snode *match(sp__scan *s, snode *node, const char *kb, size_t kn, int esc)
{
    if (esc) {
        sp_buf_reset(&s->kbuf);
        if (sp_buf_grow(&s->kbuf, kn, NULL)) {
            s->oom = 1;
            return NULL;
        }
        kn = decode(kb, kn, s->kbuf.data);
        kb = s->kbuf.data;
    }
    snode *kids = s->nodes + node->kid0;
    size_t nk = node->nkid, h = node->hint;
    for (size_t j = 0; j < nk; j++) {
        size_t x = h + j < nk ? h + j : h + j - nk;
        if (kids[x].klen == kn && !memcmp(kids[x].key, kb, kn)) {
            node->hint = x + 1 < nk ? x + 1 : 0;
            return &kids[x];
        }
    }
    return NULL;
}

static const char *scan_obj(sp__scan *s, snode *node, const char *p, const char *e, int depth)
{
    p = ws(p, e);
    if (p < e && *p == '}')
        return p + 1;
    for (;;) {
        if (p >= e || *p != '"')
            return NULL;
        int esc = 0, nul = 0;
        const char *kb = p + 1;
        p = scan_str(kb, e, &esc, &nul);
        if (!p || nul)
            return NULL; /* jansson: NUL byte in object key not supported */
        snode *kid = node ? match(s, node, kb, (size_t)(p - 1 - kb), esc) : NULL;
        p = ws(p, e);
        if (p >= e || *p != ':')
            return NULL;
        p = ws(p + 1, e);
        sp__jv v;
        if (kid) {
            /* a key seen again replaces its value: clear what it held */
            for (size_t i = kid->lo; i < kid->hi; i++)
                s->slots[i].t = SP__JV_MISSING;
            /* straight into the slot (a copy from a temporary stalls on
             * store forwarding); a failed record leaves no slot used */
            sp__jv *out = kid->slot >= 0 ? &s->slots[kid->slot] : &v;
            p = scan_val(s, kid->nkid ? kid : NULL, p, e, depth, out);
            if (!p)
                return NULL;
        } else {
            p = scan_val(s, NULL, p, e, depth, &v);
            if (!p)
                return NULL;
        }
        p = ws(p, e);
        if (p >= e)
            return NULL;
        if (*p == '}')
            return p + 1;
        if (*p != ',')
            return NULL;
        p = ws(p + 1, e);
    }
}

int sp__scan_record(sp__scan *s, const char *p, size_t n)
{
    for (size_t i = 0; i < s->nslots; i++)
        s->slots[i].t = SP__JV_MISSING;
    s->oom = 0;
    s->big = 0;
    const char *rec = p, *e = p + n;
    p = ws(p, e);
    if (p >= e || *p != '{')
        return SP__FALLBACK;
    p = scan_obj(s, &s->nodes[0], p + 1, e, 1);
    if (!p || s->oom || ws(p, e) != e)
        return SP__FALLBACK;
    /* sp__json_bignum_rewrite refuses a record with a \u0000 of its own */
    if (s->big && memmem(rec, n, "\\u0000", 6))
        return SP__FALLBACK;
    return 0;
}

/* --------------------------------------------------------------- values */

int sp__jv_str(const sp__jv *v, sp_buf *buf, const char **s, size_t *n, sp_error *err)
{
    if (!v->esc) {
        *s = v->p;
        *n = v->n;
        return 0;
    }
    sp_buf_reset(buf);
    int rc = sp_buf_grow(buf, v->n, err);
    if (rc)
        return rc;
    buf->len = decode(v->p, v->n, buf->data);
    buf->data[buf->len] = '\0';
    *s = buf->data;
    *n = buf->len;
    return 0;
}

int sp__jv_real(const sp__jv *v, double *out, sp_error *err)
{
    /* Clinger's fast path: a significand below 2^53 times an exact power
     * of ten is rounded once, as strtod rounds */
    static const double p10[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                  1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                  1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
    const char *p = v->p, *e = v->p + v->n;
    int neg = *p == '-';
    if (neg)
        p++;
    uint64_t w = 0;
    int nd = 0;
    long e10 = 0;
    for (; p < e && isdig(*p); p++) {
        if ((w || *p != '0') && ++nd > 19)
            goto slow;
        w = w * 10 + (uint64_t)(*p - '0');
    }
    if (p < e && *p == '.') {
        for (p++; p < e && isdig(*p); p++) {
            if ((w || *p != '0') && ++nd > 19)
                goto slow;
            w = w * 10 + (uint64_t)(*p - '0');
            e10--;
        }
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < e && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        long x = 0;
        for (; p < e && isdig(*p); p++)
            if (x < 1000000)
                x = x * 10 + (*p - '0');
        e10 += eneg ? -x : x;
    }
    if (w > ((uint64_t)1 << 53) || e10 < -22 || e10 > 22)
        goto slow;
    double d = (double)w;
    d = e10 < 0 ? d / p10[-e10] : d * p10[e10];
    *out = neg ? -d : d;
    return 0;
slow:
    if (token_strtod(v->p, v->n, out))
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    return 0;
}

void sp__jit_init(sp__jit *it, const sp__jv *v)
{
    it->p = v->p + 1;
    it->end = v->p + v->n - 1; /* the closing bracket */
    it->obj = v->t == SP__JV_OBJ;
}

int sp__jit_next(sp__jit *it, sp__jv *key, sp__jv *val)
{
    const char *p = ws(it->p, it->end);
    if (p >= it->end)
        return 0;
    if (it->obj) {
        sp__jv k;
        p = scan_val(NULL, NULL, p, it->end, 0, key ? key : &k);
        if (!p)
            return 0;
        p = ws(p, it->end);
        p = ws(p + 1, it->end); /* the colon */
    }
    p = scan_val(NULL, NULL, p, it->end, 0, val);
    if (!p)
        return 0;
    p = ws(p, it->end);
    it->p = p < it->end ? p + 1 : p; /* past the comma */
    return 1;
}

/* ---------------------------------------------------------- compact text */

static int scalar_text(const sp__jv *v, sp_buf *out, sp_buf *tmp, sp_error *err)
{
    char num[40];
    switch (v->t) {
    case SP__JV_STR: {
        const char *s;
        size_t n;
        int rc = sp__jv_str(v, tmp, &s, &n, err);
        return rc ? rc : sp__json_str(s, n, out, err);
    }
    case SP__JV_INT:
        return sp_buf_add(out, num, sp__fmt_i64(v->i, num), err);
    case SP__JV_BIG: /* a marker string's digits, bare */
        return sp_buf_add(out, v->p, v->n, err);
    case SP__JV_REAL: {
        double d;
        int rc = sp__jv_real(v, &d, err);
        return rc ? rc : sp_buf_add(out, num, sp__fmt_double(d, num, sizeof(num)), err);
    }
    case SP__JV_TRUE:
        return sp_buf_adds(out, "true", err);
    case SP__JV_FALSE:
        return sp_buf_adds(out, "false", err);
    default:
        return sp_buf_adds(out, "null", err);
    }
}

/* One linear walk over a validated composite, token by token (no
 * recursion): with out, its compact text; without, only the check that no
 * object repeats a key (SP__FALLBACK otherwise; escaped keys are decoded
 * into tmp to be compared). */
static int walk(const sp__jv *v, sp_buf *out, sp_buf *tmp, sp_error *err)
{
    struct key {
        const char *p; /* raw bytes, or NULL: tmp->data + off */
        size_t off, n;
    } keys[WALK_MAX_KEYS];
    char open[WALK_MAX_DEPTH];
    size_t first[WALK_MAX_DEPTH]; /* keys[first[d] ..] belong to level d */
    size_t tmark[WALK_MAX_DEPTH]; /* and their decoded bytes tmp[tmark[d] ..] */
    size_t nkeys = 0;
    int d = 0, want_key = 0, rc = 0;
    const char *p = v->p, *e = v->p + v->n;
    if (!out)
        sp_buf_reset(tmp);
    while (p < e && !rc) {
        char c = *p;
        switch (c) {
        case ' ': case '\t': case '\n': case '\r':
            p++;
            continue;
        case '{': case '[':
            if (d == WALK_MAX_DEPTH)
                return SP__FALLBACK;
            open[d] = c;
            tmark[d] = tmp->len;
            first[d++] = nkeys;
            want_key = c == '{';
            break;
        case '}': case ']':
            nkeys = first[--d];
            if (!out)
                tmp->len = tmark[d];
            want_key = 0;
            break;
        case ',':
            want_key = open[d - 1] == '{';
            break;
        case ':':
            break;
        default: {
            sp__jv x;
            const char *q = scan_val(NULL, NULL, p, e, 0, &x);
            if (!q)
                return SP__FALLBACK; /* not reached: validated */
            if (want_key && !out) {
                if (nkeys == WALK_MAX_KEYS || nkeys - first[d - 1] >= KEYS_PER_OBJECT)
                    return SP__FALLBACK;
                struct key *k = &keys[nkeys];
                k->p = x.p;
                k->n = x.n;
                if (x.esc) {
                    k->p = NULL;
                    k->off = tmp->len;
                    if (sp_buf_grow(tmp, x.n, NULL))
                        return SP__FALLBACK;
                    k->n = decode(x.p, x.n, tmp->data + tmp->len);
                    tmp->len += k->n;
                }
                const char *kp = k->p ? k->p : tmp->data + k->off;
                for (size_t i = first[d - 1]; i < nkeys; i++)
                    if (keys[i].n == k->n &&
                        !memcmp(keys[i].p ? keys[i].p : tmp->data + keys[i].off, kp, k->n))
                        return SP__FALLBACK;
                nkeys++;
            }
            want_key = 0;
            if (out)
                rc = scalar_text(&x, out, tmp, err);
            p = q;
            continue;
        }
        }
        if (out)
            rc = sp_buf_addch(out, c, err);
        p++;
    }
    return rc;
}

int sp__jv_distinctkeys(const sp__jv *v, sp_buf *tmp)
{
    return walk(v, NULL, tmp, NULL) == 0;
}

int sp__jv_compact(const sp__jv *v, sp_buf *out, sp_buf *tmp, sp_error *err)
{
    if (v->t != SP__JV_ARR && v->t != SP__JV_OBJ)
        return scalar_text(v, out, tmp, err);
    /* check first: jansson's text of {"a":1,"b":2,"a":3} is {"a":3,"b":2} */
    int rc = walk(v, NULL, tmp, NULL);
    return rc ? rc : walk(v, out, tmp, err);
}
