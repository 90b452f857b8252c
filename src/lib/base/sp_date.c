/* sp_date: ClickHouse's date and date-time text (see sp_date.h); the
 * calendar is sp_time's. */
#include <string.h>

#include "sp_date.h"
#include "sp_dtoa.h"
#include "sp_time.h"
#include "sp_banned.h"

/* years outside 0000..9999 are clamped so the text keeps its width */
#define DAYS_MIN (-719528)  /* 0000-01-01 */
#define DAYS_MAX 2932896    /* 9999-12-31 */

static inline char *put2(char *p, int v)
{
    memcpy(p, sp_digit_pairs + 2 * v, 2);
    return p + 2;
}

char *sp_date_put(char *p, int64_t days)
{
    if (days < DAYS_MIN)
        days = DAYS_MIN;
    if (days > DAYS_MAX)
        days = DAYS_MAX;
    int y, m, d;
    sp_civil_from_days(days, &y, &m, &d);
    p = put2(p, y / 100);
    p = put2(p, y % 100);
    *p++ = '-';
    p = put2(p, m);
    *p++ = '-';
    return put2(p, d);
}

static inline int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

char *sp_date_put_datetime(char *p, int64_t secs)
{
    int64_t days = floordiv(secs, 86400);
    int64_t rem = secs - days * 86400;
    if (days < DAYS_MIN) {
        days = DAYS_MIN;
        rem = 0;
    } else if (days > DAYS_MAX) {
        days = DAYS_MAX;
        rem = 86399;
    }
    p = sp_date_put(p, days);
    *p++ = ' ';
    p = put2(p, (int)(rem / 3600));
    *p++ = ':';
    p = put2(p, (int)(rem / 60 % 60));
    *p++ = ':';
    return put2(p, (int)(rem % 60));
}

size_t sp_fmt_date(char *buf, int64_t days)
{
    char *e = sp_date_put(buf, days);
    *e = '\0';
    return (size_t)(e - buf);
}

size_t sp_fmt_datetime(char *buf, int64_t secs)
{
    char *e = sp_date_put_datetime(buf, secs);
    *e = '\0';
    return (size_t)(e - buf);
}

