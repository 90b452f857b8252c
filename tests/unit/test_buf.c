// sp-deps: sp_buf sp_error
#include "sp_test.h"
#include "sp_buf.h"
#include "sp_error.h"

TEST(adds_and_terminates)
{
    sp_buf b = SP_BUF_INIT(64);
    CHECK_OK(sp_buf_adds(&b, "abc", NULL), (sp_error *)NULL);
    CHECK_OK(sp_buf_addf(&b, NULL, "-%d", 42), (sp_error *)NULL);
    CHECK_STR(b.data, "abc-42");
    CHECK_INT(b.len, 6);
    sp_buf_consume(&b, 2);
    CHECK_STR(b.data, "c-42");
    sp_buf_release(&b);
    CHECK(b.data == NULL);
}

TEST(ceiling_is_enforced)
{
    sp_buf b = SP_BUF_INIT(8);
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_buf_adds(&b, "12345678", &err), &err);
    CHECK_INT(sp_buf_addch(&b, 'x', &err), SP_ETOOBIG);
    CHECK_INT(b.len, 8);
    CHECK(strstr(err.msg, "limit") != NULL);
    sp_buf_release(&b);
}

TEST(first_error_wins)
{
    sp_error err = SP_ERROR_INIT;
    sp_error_set(&err, SP_EIO, 1, "first %s", "cause");
    sp_error_set(&err, SP_EDEF, 0, "second");
    CHECK_INT(err.code, SP_EIO);
    CHECK_INT(err.retriable, 1);
    sp_error_prefix(&err, "pipe '%s'", "x");
    CHECK_STR(err.msg, "pipe 'x': first cause");
    CHECK_STR(sp_strerror(SP_EDEF), "invalid definition");
}

TEST(detach_gives_string)
{
    sp_buf b = SP_BUF_INIT(0);
    char *s = sp_buf_detach(&b);
    CHECK_STR(s, "");
    free(s);
}

int main(void)
{
    RUN(adds_and_terminates);
    RUN(ceiling_is_enforced);
    RUN(first_error_wins);
    RUN(detach_gives_string);
    return sp_test_done();
}
