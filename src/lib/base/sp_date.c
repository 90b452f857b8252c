/* sp_date: the calendar and date/time text (see sp_date.h). */
#include "sp_date.h"

/* Howard Hinnant's days_from_civil / civil_from_days (public domain
 * algorithms, proleptic Gregorian, any year) */
void sp_civil_from_days(int64_t days, int *y, int *m, int *d)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t dd = doy - (153 * mp + 2) / 5 + 1;
    int64_t mm = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (mm <= 2));
    *m = (int)mm;
    *d = (int)dd;
}

int64_t sp_days_from_civil(int y, int m, int d)
{
    int64_t yy = (int64_t)y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* years outside 0000..9999 are clamped so the text keeps its width */
#define DAYS_MIN (-719528)  /* 0000-01-01 */
#define DAYS_MAX 2932896    /* 9999-12-31 */

static inline char *put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
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

