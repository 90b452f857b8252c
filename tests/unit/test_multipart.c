// sp-deps: sp_error sp_multipart
#include <string.h>

#include "sp_error.h"
#include "sp_multipart.h"
#include "sp_test.h"

typedef struct got {
    char names[4][64], files[4][64], data[4][64];
    int n;
} got;

static int keep(void *ud, const sp_part *p, sp_error *err)
{
    (void)err;
    got *g = ud;
    if (g->n < 4) {
        snprintf(g->names[g->n], 64, "%s", p->name);
        snprintf(g->files[g->n], 64, "%s", p->filename);
        snprintf(g->data[g->n], 64, "%.*s", (int)p->len, p->data);
    }
    g->n++;
    return 0;
}

TEST(boundary)
{
    char b[80];
    CHECK_INT(sp_multipart_boundary("multipart/form-data; boundary=----abc123", b, sizeof b), 1);
    CHECK_STR(b, "----abc123");
    CHECK_INT(sp_multipart_boundary("multipart/form-data; charset=x; boundary=\"q r\"", b, sizeof b), 1);
    CHECK_STR(b, "q r");
    CHECK_INT(sp_multipart_boundary("application/json", b, sizeof b), 0);
    CHECK_INT(sp_multipart_boundary("multipart/form-data", b, sizeof b), 0);
    CHECK_INT(sp_multipart_boundary("multipart/form-data; xboundary=a", b, sizeof b), 0);
}

TEST(parts)
{
    /* what Node's FormData sends: a file part and a field; the data may hold
     * CRLF and dashes that are not the boundary */
    const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=\"csv\"; "
                        "filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\n"
                        "a,b\r\n--XyA,2\n\r\n--XyZ\r\n"
                        "Content-Disposition: form-data; name=\"mode\"\r\n\r\nappend\r\n--XyZ--\r\n";
    got g = { .n = 0 };
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_multipart_each("XyZ", body, sizeof body - 1, keep, &g, &err), &err);
    CHECK_INT(g.n, 2);
    CHECK_STR(g.names[0], "csv");
    CHECK_STR(g.files[0], "a.csv");
    CHECK_STR(g.data[0], "a,b\r\n--XyA,2\n");
    CHECK_STR(g.names[1], "mode");
    CHECK_STR(g.files[1], "");
    CHECK_STR(g.data[1], "append");
}

TEST(malformed)
{
    got g = { .n = 0 };
    sp_error err = SP_ERROR_INIT;
    const char *bad[] = {
        "no boundary at all",
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n",
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\ndata without end",
        "--XyZjunk",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sp_error_clear(&err);
        CHECK_INT(sp_multipart_each("XyZ", bad[i], strlen(bad[i]), keep, &g, &err), SP_EINVAL);
        CHECK(strncmp(err.msg, "multipart: ", 11) == 0);
    }
    /* an empty form */
    sp_error_clear(&err);
    g.n = 0;
    CHECK_OK(sp_multipart_each("XyZ", "--XyZ--\r\n", 9, keep, &g, &err), &err);
    CHECK_INT(g.n, 0);
}

int main(void)
{
    RUN(boundary);
    RUN(parts);
    RUN(malformed);
    return sp_test_done();
}
