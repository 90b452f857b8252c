/* sp_schedule: the public face of sp_cron for listings. */
#include "sp_cron.h"
#include "sp_banned.h"

long sp_schedule_next_times(const char *schedule, int64_t from, int64_t *out, size_t n)
{
    sp_cron c;
    int rc = sp_cron_parse(schedule, &c, NULL);
    if (rc)
        return rc;
    size_t k = 0;
    int64_t t = from;
    while (k < n) {
        t = sp_cron_next(&c, t);
        if (t < 0)
            break;
        out[k++] = t;
    }
    return (long)k;
}
