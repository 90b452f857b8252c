// sp-deps: sp_buf sp_error sp_cron sp_time
/* test_cron: cron parsing (forms, names, macros, errors with positions) and
 * next-fire computation in UTC. */
#include "sp_cron.h"
#include "sp_test.h"

static int64_t next_of(const char *expr, int64_t after)
{
    sp_cron c;
    sp_error err = SP_ERROR_INIT;
    if (sp_cron_parse(expr, &c, &err) != 0) {
        SP_T_FAIL("parse '%s': %s", expr, err.msg);
        return -2;
    }
    return sp_cron_next(&c, after);
}

static void parse_fails(const char *expr, const char *want)
{
    sp_cron c;
    sp_error err = SP_ERROR_INIT;
    CHECK_INT(sp_cron_parse(expr, &c, &err), SP_EDEF);
    CHECK_STR(err.msg, want);
}

TEST(forms)
{
    sp_cron c;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_cron_parse("*/15 * * * *", &c, &err), &err);
    CHECK(c.minute == ((1ull << 0) | (1ull << 15) | (1ull << 30) | (1ull << 45)));
    CHECK_INT(c.dom_star, 1);
    CHECK_OK(sp_cron_parse("1-10/3 0,12 1 JAN-mar MON,wed,7", &c, &err), &err);
    CHECK(c.minute == ((1ull << 1) | (1ull << 4) | (1ull << 7) | (1ull << 10)));
    CHECK_INT(c.hour, (1 << 0) | (1 << 12));
    CHECK_INT(c.dom, 1 << 1);
    CHECK_INT(c.month, (1 << 1) | (1 << 2) | (1 << 3));
    CHECK_INT(c.dow, (1 << 0) | (1 << 1) | (1 << 3));
    CHECK_INT(c.dom_star, 0);
    CHECK_INT(c.dow_star, 0);
    CHECK_OK(sp_cron_parse("@hourly", &c, &err), &err);
    CHECK_INT(c.kind, SP_SCHED_CRON);
    CHECK(c.minute == 1);
    CHECK_OK(sp_cron_parse("@once", &c, &err), &err);
    CHECK_INT(c.kind, SP_SCHED_ONCE);
    CHECK_INT(sp_cron_next(&c, 0), -1);
    CHECK_OK(sp_cron_parse(" @on-demand ", &c, &err), &err);
    CHECK_INT(c.kind, SP_SCHED_ON_DEMAND);
    CHECK_INT(sp_cron_next(&c, 0), -1);
}

TEST(errors)
{
    parse_fails("0 25 * * *", "position 3: hour 25 out of range 0-23");
    parse_fails("* * *",
                "position 6: expected 5 fields (minute hour day-of-month month day-of-week), "
                "got 3");
    parse_fails("* * * * * *",
                "position 11: too many fields (expected 5: minute hour day-of-month month "
                "day-of-week)");
    parse_fails("*/0 * * * *", "position 3: step 0 out of range 1-59");
    parse_fails("5-1 * * * *", "position 3: minute range 5-1 is reversed");
    parse_fails("* * * FOO *", "position 7: expected a month value (1-12 or JAN-DEC)");
    parse_fails("1,,2 * * * *", "position 3: expected a minute value (0-59)");
    parse_fails("1x * * * *", "position 2: unexpected 'x' in minute field");
    parse_fails("@sometimes",
                "position 1: unknown macro '@sometimes' (expected @on-demand, @once, @hourly, "
                "@daily, @midnight, @weekly, @monthly, @yearly, @annually)");
    parse_fails("", "position 1: expected 5 fields (minute hour day-of-month month "
                    "day-of-week), got 0");
}

/* issue 13: a schedule that can never fire is refused; checked against the
 * next-fire search over every day of the month and month (with day of the
 * week `*`, and restricted: OR-ed, so it always fires) */
TEST(never_fires)
{
    parse_fails("0 0 30 2 *",
                "position 5: the schedule never fires (day 30 of the month is past the end "
                "of every month it names)");
    parse_fails("0 0 31 2,4,6,9,11 *",
                "position 5: the schedule never fires (day 31 of the month is past the end "
                "of every month it names)");
    sp_cron c;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_cron_parse("0 0 29 2 *", &c, &err), &err); /* leap years */
    CHECK_OK(sp_cron_parse("0 0 30,31 2 1", &c, &err), &err); /* Mondays of February */
    CHECK_OK(sp_cron_parse("0 0 31 1-2 *", &c, &err), &err);
    for (int m = 1; m <= 12; m++)
        for (int d = 1; d <= 31; d++)
            for (int w = 0; w < 2; w++) {
                char e[40];
                snprintf(e, sizeof e, "0 0 %d %d %s", d, m, w ? "3" : "*");
                sp_error e2 = SP_ERROR_INIT;
                int ok = sp_cron_parse(e, &c, &e2) == 0;
                int fires = ok && sp_cron_next(&c, 1767225600) > 0; /* 2026-01-01 */
                if (ok != fires || ok != (w || d <= (m == 2 ? 29 : 30 + ((m + (m > 7)) & 1))))
                    SP_T_FAIL("'%s': parsed %d, fires %d", e, ok, fires);
            }
}

TEST(next_fire)
{
    const int64_t jan1 = 1767225600; /* 2026-01-01 00:00 Thursday */
    CHECK_INT(next_of("*/15 * * * *", jan1), jan1 + 900);
    CHECK_INT(next_of("* * * * *", jan1 + 30), jan1 + 60);
    CHECK_INT(next_of("0 * * * *", jan1), jan1 + 3600); /* strictly after */
    /* weekdays at 6: Friday 07:00 -> Monday 06:00 */
    CHECK_INT(next_of("0 6 * * 1-5", 1767337200), 1767592800);
    /* month ends: the 31st skips February */
    CHECK_INT(next_of("0 0 31 * *", 1769904000), 1774915200);
    /* leap day */
    CHECK_INT(next_of("0 0 29 2 *", 1772323200), 1835395200);
    /* dom and dow both restricted: either matches (Vixie) */
    CHECK_INT(next_of("0 0 13 * 5", jan1), 1767312000);       /* Friday 2nd */
    CHECK_INT(next_of("0 0 13 * 5", 1767916800), 1768262400); /* Tuesday 13th */
    /* dom restricted, dow '*': only dom */
    CHECK_INT(next_of("0 0 13 * *", jan1), 1768262400);
    /* 7 is Sunday */
    CHECK_INT(next_of("0 0 * * 7", jan1), 1767484800);
    CHECK_INT(next_of("0 0 * * SUN", jan1), 1767484800);
    /* year boundary */
    CHECK_INT(next_of("0 0 1 1 *", 1798761570), 1798761600);
    CHECK_INT(next_of("@yearly", 1798761570), 1798761600);
    /* 31 February never comes: refused by the parser (never_fires) */
}

int main(void)
{
    RUN(forms);
    RUN(errors);
    RUN(next_fire);
    RUN(never_fires);
    return sp_test_done();
}
