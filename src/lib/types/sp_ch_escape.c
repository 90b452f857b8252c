/* sp_ch_escape: ClickHouse's quoting and escapes (see sp_ch_escape.h). */
#include <string.h>

#include "sp_ascii.h"
#include "sp_ch_escape.h"
#include "sp_error.h"
#include "sp_banned.h"

int sp_ch_escape(const char *p, size_t n, sp_buf *out, sp_error *err)
{
    int rc = sp_buf_grow(out, n, err);
    for (size_t i = 0; !rc && i < n; i++) {
        const char *e = sp_ch_esc(p[i]);
        rc = e ? sp_buf_add(out, e, 2, err) : sp_buf_addch(out, p[i], err);
    }
    return rc;
}

size_t sp_ch_unesc(const char *p, const char *end, char out[2], size_t *nout)
{
    *nout = 1;
    if (p + 1 >= end) {
        out[0] = '\\';
        return 1;
    }
    char c = p[1];
    switch (c) {
    case 'a': out[0] = '\a'; return 2;
    case 'b': out[0] = '\b'; return 2;
    case 'e': out[0] = '\x1b'; return 2;
    case 'f': out[0] = '\f'; return 2;
    case 'n': out[0] = '\n'; return 2;
    case 'r': out[0] = '\r'; return 2;
    case 't': out[0] = '\t'; return 2;
    case 'v': out[0] = '\v'; return 2;
    case '0': out[0] = '\0'; return 2;
    case 'x':
        if (end - p >= 4 && sp_hexval(p[2]) >= 0 && sp_hexval(p[3]) >= 0) {
            out[0] = (char)(sp_hexval(p[2]) * 16 + sp_hexval(p[3]));
            return 4;
        }
        break;
    case '\\': case '\'': case '"': case '`': case '/': case '=':
        out[0] = c;
        return 2;
    default:
        if ((unsigned char)c < 0x20) {
            out[0] = c;
            return 2;
        }
        break;
    }
    out[0] = '\\'; /* not an escape ClickHouse knows: the backslash stays */
    out[1] = c;
    *nout = 2;
    return 2;
}

int sp_ch_unescape(const char *p, size_t n, sp_buf *out, sp_error *err)
{
    int rc = sp_buf_grow(out, n, err); /* decoding never grows the text */
    if (rc)
        return rc;
    const char *end = p + n;
    char *w = out->data + out->len;
    while (p < end) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        size_t k = bs ? (size_t)(bs - p) : (size_t)(end - p);
        memcpy(w, p, k);
        w += k;
        p += k;
        if (!bs)
            break;
        size_t m;
        p += sp_ch_unesc(p, end, w, &m);
        w += m;
    }
    out->len = (size_t)(w - out->data);
    out->data[out->len] = '\0';
    return 0;
}

int sp_ch_unquote(const char **pp, const char *end, sp_buf *out, sp_error *err)
{
    const char *p = *pp;
    char q = *p++;
    int rc = 0;
    while (!rc) {
        const char *s = p;
        while (p < end && *p != q && *p != '\\')
            p++;
        if (p >= end)
            return sp_error_set(err, SP_EDATA, 0, "unterminated %c...%c", q, q);
        rc = sp_buf_add(out, s, (size_t)(p - s), err);
        if (rc)
            break;
        if (*p == '\\') {
            char d[2];
            size_t m;
            p += sp_ch_unesc(p, end, d, &m);
            rc = sp_buf_add(out, d, m, err);
        } else if (p + 1 < end && p[1] == q) { /* doubled quote */
            rc = sp_buf_addch(out, q, err);
            p += 2;
        } else {
            *pp = p + 1;
            return 0;
        }
    }
    return rc;
}

/* quote: s[0..n) between q and q, with q and '\\' escaped */
static int quote(sp_buf *b, char q, const char *s, size_t n, sp_error *err)
{
    int rc = sp_buf_addch(b, q, err);
    for (size_t i = 0; i < n && !rc; i++) {
        if (s[i] == q || s[i] == '\\')
            rc = sp_buf_addch(b, '\\', err);
        if (!rc)
            rc = sp_buf_addch(b, s[i], err);
    }
    return rc ? rc : sp_buf_addch(b, q, err);
}

int sp_ch_quote_string(sp_buf *b, const char *s, size_t n, sp_error *err)
{
    return quote(b, '\'', s, n, err);
}

int sp_ch_quote_ident(sp_buf *b, const char *s, sp_error *err)
{
    return quote(b, '`', s, strlen(s), err);
}
