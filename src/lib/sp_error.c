#include "sp_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
}

int sp_error_set(sp_error *err, int code, int retriable, const char *fmt, ...)
{
    if (!err || err->code != 0)
        return code;
    err->code = code;
    err->retriable = retriable;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
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
