#include "sp_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_error.h"
#include "sp_banned.h"

void sp_buf_init(sp_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : SP_BUF_DEFAULT_MAX;
}

void sp_buf_release(sp_buf *b)
{
    size_t max = b->max;
    free(b->data);
    sp_buf_init(b, max);
}

void sp_buf_reset(sp_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int sp_buf_grow(sp_buf *b, size_t extra, sp_error *err)
{
    if (b->max == 0)
        b->max = SP_BUF_DEFAULT_MAX;
    if (extra > b->max - b->len)
        return sp_error_set(err, SP_ETOOBIG, 0,
                            "buffer limit of %zu bytes exceeded", b->max);
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap = ncap < ((size_t)1 << 62) ? ncap * 2 : need;
    if (ncap > b->max + 1)
        ncap = b->max + 1;
    if (ncap < need)
        ncap = need;
    char *nd = realloc(b->data, ncap);
    if (!nd)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (%zu bytes)", ncap);
    b->data = nd;
    b->cap = ncap;
    b->data[b->len] = '\0';
    return 0;
}

int sp_buf_add(sp_buf *b, const void *p, size_t n, sp_error *err)
{
    int rc = sp_buf_grow(b, n, err);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int sp_buf_adds(sp_buf *b, const char *s, sp_error *err)
{
    return sp_buf_add(b, s, strlen(s), err);
}

int sp_buf_addch(sp_buf *b, char c, sp_error *err)
{
    return sp_buf_add(b, &c, 1, err);
}

int sp_buf_vaddf(sp_buf *b, sp_error *err, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return sp_error_set(err, SP_EINTERNAL, 0, "bad format string");
    int rc = sp_buf_grow(b, (size_t)n, err);
    if (rc)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int sp_buf_addf(sp_buf *b, sp_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = sp_buf_vaddf(b, err, fmt, ap);
    va_end(ap);
    return rc;
}

char *sp_buf_detach(sp_buf *b)
{
    char *s = b->data;
    if (!s) {
        s = malloc(1);
        if (!s)
            return NULL;
        s[0] = '\0';
    }
    sp_buf_init(b, b->max);
    return s;
}

void sp_buf_consume(sp_buf *b, size_t n)
{
    if (n >= b->len) {
        sp_buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

int sp_buf_add_cb(void *ud, const char *p, size_t n, sp_error *err)
{
    return sp_buf_add(ud, p, n, err);
}

char *sp_strdup0(const char *s)
{
    return s ? sp_memdup0(s, strlen(s)) : NULL;
}

char *sp_strdup_nz(const char *s)
{
    return s && *s ? sp_memdup0(s, strlen(s)) : NULL;
}

char *sp_memdup0(const void *p, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        if (n)
            memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}
