#include "sp_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_secret.h"
#include "sp_banned.h"

#define SP_CODE_NAME(sym, val, text) case sym: return text;
const char *sp_strerror(int code)
{
    switch (code) {
        SP_CODES(SP_CODE_NAME)
    default:
        return "unknown error";
    }
}

void sp_error_clear(sp_error *err)
{
    if (!err)
        return;
    err->code = 0;
    err->retriable = 0;
    err->msg[0] = '\0';
    err->path[0] = '\0';
    err->line = 0;
    err->key[0] = '\0';
    err->pipe[0] = '\0';
}

static void put(char *dst, size_t n, const char *src)
{
    size_t l = src ? strlen(src) : 0;
    if (l >= n)
        l = n - 1;
    if (l)
        memcpy(dst, src, l);
    dst[l] = '\0';
}

void sp_error_locate(sp_error *err, const char *path, int line, const char *key)
{
    if (!err || !err->code || err->path[0] || err->line || err->key[0])
        return;
    put(err->path, sizeof err->path, path);
    err->line = line > 0 ? line : 0;
    put(err->key, sizeof err->key, key);
}

void sp_error_name_pipe(sp_error *err, const char *pipe)
{
    if (err && err->code && !err->pipe[0])
        put(err->pipe, sizeof err->pipe, pipe);
}

int sp_error_set_pipe(sp_error *err, const char *pipe, int code, int retriable,
                      const char *fmt, ...)
{
    if (!err || err->code != 0)
        return code;
    va_list ap;
    va_start(ap, fmt);
    sp_error_vset(err, code, retriable, fmt, ap);
    va_end(ap);
    sp_error_name_pipe(err, pipe);
    return code;
}

int sp_code_retriable(int code)
{
    return code == SP_ENET || code == SP_EBUSY;
}

size_t sp_error_head_len(const char *conn, const char *key, const char *sep)
{
    return strlen("connection '") + strlen(conn ? conn : "") + strlen("': ") +
           strlen(key ? key : "") + strlen(sep ? sep : "");
}

int sp_error_copy(sp_error *err, const sp_error *src)
{
    if (!err || err->code != 0 || err == src)
        return src->code;
    *err = *src;
    err->retriable = src->retriable ? 1 : 0;
    err->msg[sizeof err->msg - 1] = '\0';
    return src->code;
}

int sp_error_set(sp_error *err, int code, int retriable, const char *fmt, ...)
{
    if (!err || err->code != 0)
        return code;
    va_list ap;
    va_start(ap, fmt);
    sp_error_vset(err, code, retriable, fmt, ap);
    va_end(ap);
    return code;
}

int sp_error_vset(sp_error *err, int code, int retriable, const char *fmt, va_list ap)
{
    if (!err || err->code != 0)
        return code;
    sp_error_clear(err);
    err->code = code;
    err->retriable = retriable > 0 ? 1 : retriable < 0 ? 0 : sp_code_retriable(code);
    /* the whole text is scrubbed before it is cut to fit: a secret cut in
     * two would not be recognised */
    char small[4 * sizeof err->msg];
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(small, sizeof small, fmt, aq);
    va_end(aq);
    char *text = small;
    size_t cap = sizeof small;
    if (n >= (int)sizeof small) {
        char *big = malloc((size_t)n + 1);
        if (big) {
            va_copy(aq, ap);
            vsnprintf(big, (size_t)n + 1, fmt, aq);
            va_end(aq);
            text = big;
            cap = (size_t)n + 1;
        }
    }
    sp_secret_scrub(text, cap, NULL);
    size_t tl = strlen(text);
    if (tl >= sizeof err->msg)
        tl = sizeof err->msg - 1;
    memcpy(err->msg, text, tl);
    err->msg[tl] = '\0';
    if (text != small) {
        memset(text, 0, cap);
        free(text);
    }
    memset(small, 0, sizeof small);
    /* keep messages on one line */
    for (char *p = err->msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return code;
}

void sp_error_prefix(sp_error *err, const char *fmt, ...)
{
    if (!err || err->code == 0)
        return;
    char pre[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    sp_secret_scrub(pre, sizeof pre, NULL);
    char tmp[sizeof err->msg];
    size_t pl = strlen(pre);
    if (pl > sizeof tmp - 3)
        pl = sizeof tmp - 3;
    memcpy(tmp, pre, pl);
    tmp[pl] = ':';
    tmp[pl + 1] = ' ';
    size_t ml = strlen(err->msg);
    if (ml > sizeof tmp - pl - 3)
        ml = sizeof tmp - pl - 3;
    memcpy(tmp + pl + 2, err->msg, ml);
    tmp[pl + 2 + ml] = '\0';
    memcpy(err->msg, tmp, sizeof tmp);
}
