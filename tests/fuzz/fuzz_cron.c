/* fuzz_cron: EXPORT_SCHEDULE expressions (sp_cron_parse, sp_cron_next,
 * sp_schedule_next_times).
 *
 * Input: the expression text.  Invariants: a parsed schedule fires; a next
 * fire time is strictly after its start, on a whole minute, and matches the
 * parsed fields; the times sp_schedule_next_times lists are increasing. */
#include "fuzz.h"

#include "sp_cron.h"
#include "sp_error.h"

static const int64_t starts[] = {
    0, 59, 951782399 /* 2000-02-28 23:59:59 */, 1795489445 /* 2026-11-24 03:04:05 */,
    4102444799 /* 2099-12-31 23:59:59 */,
};

static void check_match(const sp_cron *c, int64_t t)
{
    int64_t days = t / 86400, secs = t % 86400;
    int minute = (int)(secs % 3600 / 60), hour = (int)(secs / 3600);
    int dow = (int)((days + 4) % 7); /* 1970-01-01 was a Thursday */
    /* civil date from days (Howard Hinnant's algorithm) */
    int64_t z = days + 719468, era = z / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int dom = (int)(doy - (153 * mp + 2) / 5 + 1);
    int month = (int)(mp < 10 ? mp + 3 : mp - 9);
    fz_check(c->minute >> minute & 1, "next %lld: minute %d not in the set", (long long)t,
             minute);
    fz_check(c->hour >> hour & 1, "next %lld: hour %d not in the set", (long long)t, hour);
    fz_check(c->month >> month & 1, "next %lld: month %d not in the set", (long long)t, month);
    int dom_ok = c->dom >> dom & 1, dow_ok = c->dow >> dow & 1;
    int day_ok;
    if (c->dom_star || c->dow_star)
        day_ok = dom_ok && dow_ok;
    else
        day_ok = dom_ok || dow_ok; /* both restricted: either matches (cron) */
    fz_check(day_ok, "next %lld: day %d / weekday %d do not match", (long long)t, dom, dow);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = fz_strndup(data, size);
    sp_cron c;
    sp_error err = SP_ERROR_INIT;
    if (sp_cron_parse(text, &c, &err) == 0) {
        for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
            int64_t t = sp_cron_next(&c, starts[i]);
            if (c.kind != SP_SCHED_CRON) {
                fz_check(t == -1, "@once/@on-demand gave a next time %lld", (long long)t);
                continue;
            }
            /* a schedule that never fires is refused by the parser (the
             * rarest that is accepted, 29 February, comes within 5 years) */
            fz_check(t != -1, "'%s' parsed but never fires after %lld", text,
                     (long long)starts[i]);
            if (t == -1)
                continue;
            fz_check(t > starts[i], "next %lld not after %lld", (long long)t,
                     (long long)starts[i]);
            fz_check(t % 60 == 0, "next %lld not on a minute", (long long)t);
            check_match(&c, t);
        }
        int64_t times[4];
        long n = sp_schedule_next_times(text, starts[3], times, 4);
        fz_check(n >= 0 && n <= 4, "sp_schedule_next_times gave %ld for a valid schedule", n);
        for (long i = 1; i < n; i++)
            fz_check(times[i] > times[i - 1], "schedule times not increasing at %ld", i);
    } else {
        fz_check_msg(&err);
        int64_t times[2];
        long n = sp_schedule_next_times(text, starts[3], times, 2);
        fz_check(n < 0, "sp_schedule_next_times accepted what sp_cron_parse rejects (%ld)", n);
    }
    free(text);
    return 0;
}
