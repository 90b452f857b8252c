/* fmt_bench: formatter micro-benchmark (not run by the tests).
 *
 *   fmt_bench [ROWS]    default 10000000
 *
 * Formats ROWS synthetic rows of 6 columns (UInt64 id, DateTime, String,
 * Float64, LowCardinality(String), Nullable(Int32)) in batches of 2048 into
 * a buffer that is emptied after each batch, as a sink would, once as CSV
 * and once as NDJSON, and prints rows/s and MB/s for each (per CPU second
 * of formatting, so a busy machine does not skew it).  Built by the
 * Makefile (make bench). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sp_batch.h"
#include "sp_error.h"
#include "sp_format.h"

#define BATCH 2048
#define NC 6

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: immune to a busy machine */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

int main(int argc, char **argv)
{
    long rows = 10000000;
    if (argc > 1) {
        char *end;
        rows = strtol(argv[1], &end, 10);
        if (*end || rows <= 0) {
            fprintf(stderr, "usage: fmt_bench [ROWS]\n");
            return 2;
        }
    }
    static const char *const names[NC] = {"id", "ts", "event", "value", "country", "n"};
    static const char *const types[NC] = {"UInt64", "DateTime", "String", "Float64",
                                          "LowCardinality(String)", "Nullable(Int32)"};
    sp_schema *s = sp_schema_new(NC);
    if (!s)
        return 1;
    for (int c = 0; c < NC; c++) {
        s->names[c] = strdup(names[c]);
        if (!s->names[c] || sp_type_parse(types[c], &s->types[c], NULL))
            return 1;
    }
    static const char *const events[] = {"page_view", "click", "purchase \"big\"",
                                         "signup/landing", "scroll\tdeep"};
    static const char *const countries[] = {"ES", "US", "DE", "FR", "JP", "BR"};
    static uint64_t id[BATCH];
    static int64_t ts[BATCH], n[BATCH];
    static double val[BATCH];
    static sp_str ev[BATCH], co[BATCH];
    static uint8_t nulls[BATCH];

    sp_column cols[NC];
    memset(cols, 0, sizeof cols);
    for (int c = 0; c < NC; c++)
        cols[c].type = s->types[c];
    cols[0].v.u64 = id;
    cols[1].v.i64 = ts;
    cols[2].v.str = ev;
    cols[3].v.f64 = val;
    cols[4].v.str = co;
    cols[5].v.i64 = n;
    cols[5].nulls = nulls;

    for (int f = 0; f < 2; f++) {
        const sp_format *fmt = f ? &sp_format_ndjson : &sp_format_csv;
        sp_buf out = SP_BUF_INIT(64u << 20);
        sp_error err = SP_ERROR_INIT;
        double bytes = 0, t_fmt = 0;
        rng_state = 88172645463325252ULL;
        if (fmt->header(&out, s, &err))
            return 1;
        for (long done = 0; done < rows; done += BATCH) {
            size_t nb = (size_t)(rows - done < BATCH ? rows - done : BATCH);
            for (size_t i = 0; i < nb; i++) { /* data generation is not timed */
                uint64_t r = rng();
                id[i] = (uint64_t)done + i;
                ts[i] = 1767225600 + (int64_t)(r % 31536000);
                const char *e = events[r % 5];
                ev[i] = (sp_str){e, strlen(e)};
                val[i] = (double)(r % 1000000) / 100.0;
                co[i] = (sp_str){countries[(r >> 20) % 6], 2};
                n[i] = (int64_t)(r >> 40) % 100000 - 50000;
                nulls[i] = (r >> 8) % 10 == 0;
            }
            sp_batch b = {nb, NC, cols};
            double t0 = now();
            if (fmt->rows(&out, s, &b, 0, nb, &err)) {
                fprintf(stderr, "fmt_bench: %s\n", err.msg);
                return 1;
            }
            t_fmt += now() - t0;
            bytes += (double)out.len;
            sp_buf_reset(&out);
        }
        printf("%-6s %ld rows in %.3f s: %.0f rows/s, %.0f MB/s\n", fmt->name, rows, t_fmt,
               (double)rows / t_fmt, bytes / t_fmt / 1e6);
        sp_buf_release(&out);
    }
    sp_schema_free(s);
    return 0;
}
