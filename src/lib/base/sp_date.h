/* sp_date: the ClickHouse text of dates and times in UTC — what formats,
 * file names, engines and run options share — on sp_time's calendar (which
 * this header brings: sp_days_from_civil, sp_civil_from_days).  Pure
 * functions, no state.  (sp_fmt_* keep their former sp_format.h names.) */
#ifndef SP_DATE_H
#define SP_DATE_H

#include <stddef.h>
#include <stdint.h>

#include "sp_time.h"

/* sp_date_put: "YYYY-MM-DD" (10 bytes, no terminator) at p for days since
 * epoch, clamped to 0000-01-01..9999-12-31 so the text keeps its width;
 * returns the end */
char *sp_date_put(char *p, int64_t days);
/* sp_date_put_datetime: "YYYY-MM-DD hh:mm:ss" (19 bytes, no terminator)
 * for UTC seconds, clamped as sp_date_put; returns the end */
char *sp_date_put_datetime(char *p, int64_t secs);

/* sp_fmt_date: "YYYY-MM-DD" for days since epoch (buf >= 11); the length */
size_t sp_fmt_date(char *buf, int64_t days);
/* sp_fmt_datetime: "YYYY-MM-DD hh:mm:ss" for UTC seconds (buf >= 20) */
size_t sp_fmt_datetime(char *buf, int64_t secs);

#endif
