/* sp_clock: the time source of the scheduler, injectable so that tests
 * drive time.  A clock tells the current time (UTC seconds) and sleeps
 * until a deadline in its own time; wake() ends a sleep early (also one
 * that has not started yet: a wake is remembered until the next sleep). */
#ifndef SP_CLOCK_H
#define SP_CLOCK_H

#include <stdint.h>

typedef struct sp_clock sp_clock;

struct sp_clock {
    int64_t (*now)(sp_clock *c);
    /* return when now() >= deadline, after wake(), or spuriously: callers
     * re-read now() and loop */
    void (*sleep_until)(sp_clock *c, int64_t deadline);
    void (*wake)(sp_clock *c);
    void (*free)(sp_clock *c);
};

/* sp_clock_real: the system clock when start == 0; otherwise a clock that
 * reads `start` now and runs `speed` times faster than real time (a test
 * hook: SINKPIPE_SERVE_FAKE_NOW / SINKPIPE_SERVE_CLOCK_SPEED).  speed <= 0
 * means 1.  NULL on out of memory.  Free with c->free(c). */
sp_clock *sp_clock_real(int64_t start, double speed);

/* sp_clock_mono_s / sp_clock_mono_ms: CLOCK_MONOTONIC in seconds / whole
 * milliseconds, the one source of every timeout, deadline and duration
 * (never the wall clock, which jumps). */
double sp_clock_mono_s(void);
int64_t sp_clock_mono_ms(void);

#endif
