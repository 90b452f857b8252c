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
}

int sp_error_set(sp_error *err, int code, int retriable, const char *fmt, ...)
{
    if (!err || err->code != 0)
        return code;
    err->code = code;
    err->retriable = retriable;
    /* the whole text is scrubbed before it is cut to fit: a secret cut in
     * two would not be recognised */
    char small[4 * sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    char *text = small;
    size_t cap = sizeof small;
    if (n >= (int)sizeof small) {
        char *big = malloc((size_t)n + 1);
        if (big) {
            va_start(ap, fmt);
            vsnprintf(big, (size_t)n + 1, fmt, ap);
            va_end(ap);
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
