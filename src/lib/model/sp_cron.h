/* sp_cron: EXPORT_SCHEDULE expressions — 5-field cron in UTC (lists,
 * ranges, steps, month and weekday names, @hourly @daily @weekly @monthly
 * @yearly @annually @midnight) and the specials @once and @on-demand. */
#ifndef SP_CRON_H
#define SP_CRON_H

#include <stdint.h>

#include "sinkpipe.h"

typedef enum sp_sched_kind { SP_SCHED_CRON, SP_SCHED_ONCE, SP_SCHED_ON_DEMAND } sp_sched_kind;

typedef struct sp_cron {
    sp_sched_kind kind;
    uint64_t minute; /* bit i set: minute i matches */
    uint32_t hour;
    uint32_t dom;    /* bits 1..31 */
    uint16_t month;  /* bits 1..12 */
    uint8_t dow;     /* bits 0..6, Sunday = 0 */
    uint8_t dom_star, dow_star;
} sp_cron;

/* sp_cron_parse: errors say "position N: reason" (1-based column).  A
 * schedule that can never fire (`0 0 30 2 *`) is an error. */
int sp_cron_parse(const char *text, sp_cron *out, sp_error *err);
/* sp_cron_next: the first fire time strictly after `after` (UTC seconds);
 * -1 for @once / @on-demand (a parsed cron fires within 5 years: 29
 * February is the rarest). */
int64_t sp_cron_next(const sp_cron *c, int64_t after);

#endif
