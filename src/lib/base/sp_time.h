/* sp_time: the proleptic Gregorian calendar, one copy for every module
 * (datafile times, cron, ingest, the formats, object names, the ops log).
 * Days count from 1970-01-01 (day 0); any year.  Header of a base module:
 * it includes nothing of the library. */
#ifndef SP_TIME_H
#define SP_TIME_H

#include <stdint.h>

/* sp_days_from_civil: days since the epoch of y-m-d (m 1..12, d 1..31;
 * not checked: 2026-02-30 is 2026-03-02). */
int64_t sp_days_from_civil(int64_t y, int m, int d);
/* sp_civil_from_days: y-m-d of a day since the epoch. */
void sp_civil_from_days(int64_t days, int *y, int *m, int *d);
/* sp_days_in_month: 28..31 for month m (1..12) of year y, 0 for another m. */
int sp_days_in_month(int64_t y, int m);

#endif
