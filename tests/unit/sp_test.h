/* sp_test.h: the unit-test harness.  Each test file is its own program:
 *
 *   // sp-deps: sp_buf sp_error
 *   #include "sp_test.h"
 *   TEST(adds_bytes) { ... CHECK_INT(b.len, 3); ... }
 *   int main(void) { RUN(adds_bytes); return sp_test_done(); }
 *
 * Checks print both values on failure and go on; sp_test_done() prints
 * "<program>: N passed, N failed" and returns the exit status. */
#ifndef SP_TEST_H
#define SP_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sinkpipe.h"

static inline const char *sp_t_errmsg(const sp_error *e)
{
    return e ? e->msg : "";
}

static int sp_t_passed, sp_t_failed, sp_t_cur_failed;
static const char *sp_t_name;

#define TEST(name) static void name(void)

#define RUN(name)                                                   \
    do {                                                            \
        sp_t_name = #name;                                          \
        sp_t_cur_failed = 0;                                        \
        name();                                                     \
        if (sp_t_cur_failed) {                                      \
            sp_t_failed++;                                          \
            printf("not ok - %s\n", #name);                         \
        } else {                                                    \
            sp_t_passed++;                                          \
            printf("ok - %s\n", #name);                             \
        }                                                           \
        fflush(stdout);                                             \
    } while (0)

#define SP_T_FAIL(...)                                              \
    do {                                                            \
        sp_t_cur_failed = 1;                                        \
        printf("#   %s:%d: %s: ", __FILE__, __LINE__, sp_t_name);   \
        printf(__VA_ARGS__);                                        \
        printf("\n");                                               \
    } while (0)

#define CHECK(cond)                                                 \
    do {                                                            \
        if (!(cond))                                                \
            SP_T_FAIL("check failed: %s", #cond);                   \
    } while (0)

#define CHECK_INT(got, want)                                        \
    do {                                                            \
        long long g_ = (long long)(got), w_ = (long long)(want);    \
        if (g_ != w_)                                               \
            SP_T_FAIL("%s: got %lld, want %lld", #got, g_, w_);     \
    } while (0)

#define CHECK_STR(got, want)                                        \
    do {                                                            \
        const char *g_ = (got), *w_ = (want);                       \
        if (!g_ || !w_ || strcmp(g_, w_) != 0)                      \
            SP_T_FAIL("%s:\n#     got:  \"%s\"\n#     want: \"%s\"", \
                      #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
    } while (0)

#define CHECK_MEM(got, gotlen, want, wantlen)                       \
    do {                                                            \
        const char *g_ = (const char *)(got);                       \
        const char *w_ = (const char *)(want);                      \
        size_t gl_ = (gotlen), wl_ = (wantlen);                     \
        if (gl_ != wl_ || memcmp(g_, w_, gl_) != 0)                 \
            SP_T_FAIL("%s:\n#     got:  \"%.*s\" (%zu)\n#     want: \"%.*s\" (%zu)", \
                      #got, (int)gl_, g_, gl_, (int)wl_, w_, wl_);  \
    } while (0)

/* CHECK_OK(call, err): the call returns 0; else print err->msg */
#define CHECK_OK(call, errp)                                        \
    do {                                                            \
        int rc_ = (call);                                           \
        if (rc_ != 0)                                               \
            SP_T_FAIL("%s: returned %d: %s", #call, rc_,            \
                      sp_t_errmsg(errp));                           \
    } while (0)

static inline int sp_test_done(void)
{
    extern const char *__progname;
    printf("%s: %d passed, %d failed\n", __progname, sp_t_passed, sp_t_failed);
    return sp_t_failed ? 1 : 0;
}

#endif
