/* sp_cron: 5-field cron expressions in UTC (Vixie semantics), macros and the
 * @once / @on-demand specials. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sp_cron.h"
#include "sp_error.h"
#include "sp_time.h"
#include "sp_banned.h"

static const char *const months[] = { "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                      "JUL", "AUG", "SEP", "OCT", "NOV", "DEC" };
static const char *const wdays[] = { "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT" };

typedef struct field {
    const char *name;
    int lo, hi;
    const char *const *names; /* names[i] = lo + i */
    int nnames;
} field;

static const field fields[5] = {
    { "minute", 0, 59, NULL, 0 },
    { "hour", 0, 23, NULL, 0 },
    { "day of month", 1, 31, NULL, 0 },
    { "month", 1, 12, months, 12 },
    { "day of week", 0, 7, wdays, 7 },
};

/* number or name at *p; pos of p is base + (p - text) */
static int parse_value(const char *text, const char **p, const field *f, int *out,
                       sp_error *err)
{
    const char *s = *p;
    if (*s >= '0' && *s <= '9') {
        long v = 0;
        while (*s >= '0' && *s <= '9') {
            v = v * 10 + (*s - '0');
            if (v > 1000)
                break;
            s++;
        }
        if (v < f->lo || v > f->hi)
            return sp_error_set(err, SP_EDEF, 0, "position %d: %s %ld out of range %d-%d",
                                (int)(*p - text) + 1, f->name, v, f->lo, f->hi);
        *out = (int)v;
        *p = s;
        return 0;
    }
    for (int i = 0; i < f->nnames; i++) {
        if (strncasecmp(s, f->names[i], 3) == 0) {
            *out = f->lo + i;
            *p = s + 3;
            return 0;
        }
    }
    return sp_error_set(err, SP_EDEF, 0, "position %d: expected a %s value (%d-%d%s)",
                        (int)(*p - text) + 1, f->name, f->lo, f->hi,
                        f->nnames == 12 ? " or JAN-DEC" : f->nnames == 7 ? " or SUN-SAT" : "");
}

static int parse_field(const char *text, const char *s, const char *end, const field *f,
                       uint64_t *bits, int *star, sp_error *err)
{
    *bits = 0;
    *star = (end - s == 1 && *s == '*');
    const char *p = s;
    for (;;) {
        int lo, hi, step = 1, rc;
        const char *item = p;
        if (*p == '*') {
            lo = f->lo;
            hi = f->hi == 7 ? 6 : f->hi;
            p++;
        } else {
            if ((rc = parse_value(text, &p, f, &lo, err)))
                return rc;
            hi = lo;
            if (*p == '-') {
                p++;
                const char *at = p;
                if ((rc = parse_value(text, &p, f, &hi, err)))
                    return rc;
                if (hi < lo)
                    return sp_error_set(err, SP_EDEF, 0,
                                        "position %d: %s range %d-%d is reversed",
                                        (int)(at - text) + 1, f->name, lo, hi);
            }
        }
        if (*p == '/') {
            p++;
            const char *at = p;
            long v = 0;
            if (!(*p >= '0' && *p <= '9'))
                return sp_error_set(err, SP_EDEF, 0, "position %d: expected a step number",
                                    (int)(at - text) + 1);
            while (*p >= '0' && *p <= '9' && v <= 1000)
                v = v * 10 + (*p++ - '0');
            if (v < 1 || v > f->hi)
                return sp_error_set(err, SP_EDEF, 0, "position %d: step %ld out of range 1-%d",
                                    (int)(at - text) + 1, v, f->hi);
            step = (int)v;
            if (item[0] != '*' && hi == lo)
                hi = f->hi == 7 ? 6 : f->hi; /* "5/15" = 5-max/15 */
            *star = 0;
        }
        for (int v = lo; v <= hi; v += step)
            *bits |= (uint64_t)1 << (f->hi == 7 && v == 7 ? 0 : v);
        if (p == end)
            return 0;
        if (*p != ',')
            return sp_error_set(err, SP_EDEF, 0, "position %d: unexpected '%c' in %s field",
                                (int)(p - text) + 1, *p, f->name);
        p++;
        if (p == end)
            return sp_error_set(err, SP_EDEF, 0, "position %d: expected a %s value",
                                (int)(p - text) + 1, f->name);
    }
}

static const struct {
    const char *name, *expr;
} macros[] = {
    { "@yearly", "0 0 1 1 *" },  { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
    { "@weekly", "0 0 * * 0" },  { "@daily", "0 0 * * *" },    { "@midnight", "0 0 * * *" },
    { "@hourly", "0 * * * *" },
};

int sp_cron_parse(const char *text, sp_cron *out, sp_error *err)
{
    memset(out, 0, sizeof *out);
    if (!text)
        return sp_error_set(err, SP_EDEF, 0, "position 1: empty schedule");
    const char *s = text;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (*s == '@') {
        if (len == 5 && strncasecmp(s, "@once", 5) == 0) {
            out->kind = SP_SCHED_ONCE;
            return 0;
        }
        if (len == 10 && strncasecmp(s, "@on-demand", 10) == 0) {
            out->kind = SP_SCHED_ON_DEMAND;
            return 0;
        }
        for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++)
            if (strlen(macros[i].name) == len && strncasecmp(s, macros[i].name, len) == 0)
                return sp_cron_parse(macros[i].expr, out, err);
        return sp_error_set(err, SP_EDEF, 0,
                            "position %d: unknown macro '%.*s' (expected @on-demand, @once, "
                            "@hourly, @daily, @midnight, @weekly, @monthly, @yearly, "
                            "@annually)",
                            (int)(s - text) + 1, (int)len, s);
    }
    out->kind = SP_SCHED_CRON;
    const char *end = s + len;
    uint64_t bits[5];
    int star[5];
    const char *at[5];
    int nf = 0;
    const char *p = s;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p == end)
            break;
        const char *fe = p;
        while (fe < end && *fe != ' ' && *fe != '\t')
            fe++;
        if (nf == 5)
            return sp_error_set(err, SP_EDEF, 0,
                                "position %d: too many fields (expected 5: minute hour "
                                "day-of-month month day-of-week)",
                                (int)(p - text) + 1);
        at[nf] = p;
        int rc = parse_field(text, p, fe, &fields[nf], &bits[nf], &star[nf], err);
        if (rc)
            return rc;
        nf++;
        p = fe;
    }
    if (nf < 5)
        return sp_error_set(err, SP_EDEF, 0,
                            "position %d: expected 5 fields (minute hour day-of-month month "
                            "day-of-week), got %d",
                            (int)(end - text) + 1, nf);
    out->minute = bits[0];
    out->hour = (uint32_t)bits[1];
    out->dom = (uint32_t)bits[2];
    out->month = (uint16_t)bits[3];
    out->dow = (uint8_t)bits[4];
    out->dom_star = (uint8_t)star[2];
    out->dow_star = (uint8_t)star[4];
    /* a day of the week restricts nothing alone (every month has every
     * weekday, and a restricted one is OR-ed with the day of the month);
     * with `*` for it, the days of the month must exist in one of the
     * months (February has 29 days in leap years) or it never fires */
    static const int mdays[13] = { 0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int longest = 0;
    for (int m = 1; m <= 12; m++)
        if ((out->month >> m) & 1 && mdays[m] > longest)
            longest = mdays[m];
    if (out->dow_star && !(out->dom & ((2u << longest) - 2u))) {
        int first = 1;
        while (!((out->dom >> first) & 1))
            first++;
        memset(out, 0, sizeof *out);
        return sp_error_set(err, SP_EDEF, 0,
                            "position %d: the schedule never fires (day %d of the month is "
                            "past the end of every month it names)",
                            (int)(at[2] - text) + 1, first);
    }
    return 0;
}

static int day_matches(const sp_cron *c, int64_t days, int dom)
{
    int dow = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday (4) */
    int dom_ok = (c->dom >> dom) & 1, dow_ok = (c->dow >> dow) & 1;
    if (c->dom_star || c->dow_star)
        return dom_ok && dow_ok;
    return dom_ok || dow_ok;
}

int64_t sp_cron_next(const sp_cron *c, int64_t after)
{
    if (!c || c->kind != SP_SCHED_CRON)
        return -1;
    int64_t t = after - (((after % 60) + 60) % 60) + 60; /* next whole minute */
    int64_t day = (t >= 0 ? t : t - 86399) / 86400;
    int64_t minute_of_day = (t - day * 86400) / 60;
    int64_t limit = day + 5 * 366 + 1;
    for (; day <= limit; day++, minute_of_day = 0) {
        int y, m, d;
        sp_civil_from_days(day, &y, &m, &d);
        if (!((c->month >> m) & 1)) {
            /* jump to the first day of the next month */
            int ny = y + (m == 12), nm = m == 12 ? 1 : m + 1;
            day = sp_days_from_civil(ny, nm, 1) - 1;
            continue;
        }
        if (!day_matches(c, day, d))
            continue;
        for (int64_t mod = minute_of_day; mod < 1440; mod++) {
            int h = (int)(mod / 60), mi = (int)(mod % 60);
            if (!((c->hour >> h) & 1)) {
                mod = (int64_t)h * 60 + 59;
                continue;
            }
            if ((c->minute >> mi) & 1)
                return day * 86400 + mod * 60;
        }
    }
    return -1;
}
