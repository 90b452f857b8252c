// sp-deps: sp_buf sp_error sp_opts sp_version
/* test_abi: what keeps libsinkpipe.so.0 usable across versions: the
 * numeric version macros agree with the text and with sp_version(), and
 * growable option structs (sp_opts.h) read only the fields the caller's
 * size covers. */
#include <stddef.h>

#include "sp_opts.h"
#include "sp_test.h"

TEST(version_macros)
{
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", SINKPIPE_VERSION_MAJOR, SINKPIPE_VERSION_MINOR,
             SINKPIPE_VERSION_PATCH);
    CHECK_STR(SINKPIPE_VERSION, want);
    int n = -1;
    CHECK_STR(sp_version(&n), SINKPIPE_VERSION);
    CHECK_INT(n, SINKPIPE_VERSION_NUMBER);
    CHECK_INT(SINKPIPE_VERSION_NUMBER, SINKPIPE_VERSION_MAJOR * 10000 +
                                           SINKPIPE_VERSION_MINOR * 100 + SINKPIPE_VERSION_PATCH);
    CHECK_STR(sp_version(NULL), SINKPIPE_VERSION);
}

TEST(opts_older_caller)
{
    /* a caller built when sp_run_opts ended before max_file_size: what lies
     * past its size is not read (here: junk), the library sees zero */
    unsigned char raw[sizeof(struct sp_run_opts)];
    memset(raw, 0xAB, sizeof raw);
    struct sp_run_opts *old = (struct sp_run_opts *)(void *)raw;
    size_t oldsize = offsetof(struct sp_run_opts, max_file_size);
    old->size = oldsize;
    old->now_unix = 42;
    old->format = "csv";
    struct sp_run_opts o;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_opts_load(&o, sizeof o, raw, "sp_run_opts", &err), &err);
    CHECK_INT(o.size, sizeof o);
    CHECK_INT(o.now_unix, 42);
    CHECK_STR(o.format, "csv");
    CHECK_INT(o.max_file_size == NULL && o.max_file_rows == NULL, 1);
}

TEST(opts_newer_caller)
{
    /* a caller built against a newer header: unknown fields left zero are
     * fine, one set is refused rather than ignored */
    struct {
        struct sp_run_opts o;
        void *future;
    } big;
    memset(&big, 0, sizeof big);
    big.o.size = sizeof big;
    big.o.now_unix = 7;
    struct sp_run_opts o;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_opts_load(&o, sizeof o, &big, "sp_run_opts", &err), &err);
    CHECK_INT(o.now_unix, 7);
    big.future = &big;
    CHECK_INT(sp_opts_load(&o, sizeof o, &big, "sp_run_opts", &err), SP_EUNSUPPORTED);
    CHECK(strstr(err.msg, "sp_run_opts: sets options this library") != NULL);
}

TEST(opts_unset_size)
{
    struct sp_serve_opts so = { .listen = "x" }; /* .size forgotten */
    struct sp_serve_opts o;
    sp_error err = SP_ERROR_INIT;
    CHECK_INT(sp_opts_load(&o, sizeof o, &so, "sp_serve_opts", &err), SP_EINVAL);
    CHECK_STR(err.msg, "sp_serve_opts: size is not set (set .size = sizeof(struct sp_serve_opts))");
    sp_error_clear(&err);
    CHECK_OK(sp_opts_load(&o, sizeof o, NULL, "sp_serve_opts", &err), &err); /* NULL: defaults */
    CHECK_INT(o.size, sizeof o);
    CHECK_INT(o.listen == NULL, 1);
}

int main(void)
{
    RUN(version_macros);
    RUN(opts_older_caller);
    RUN(opts_newer_caller);
    RUN(opts_unset_size);
    return sp_test_done();
}
