// sp-deps: sp_buf sp_error sp_secret sp_env
/* test_secret: the scrubber (sp_secret.h) — short secrets only as whole
 * tokens (no "ro***tine***"), long ones anywhere, the parts of addresses
 * and URLs, longest first, a text that cannot grow is cut, never left with
 * part of a secret; every sp_error message and every tb_secret value. */
#include "sp_env.h"
#include "sp_error.h"
#include "sp_secret.h"
#include "sp_test.h"

/* scrub a copy of text (room to grow) and return it (static) */
static const char *scrub(const char *text, const char *extra)
{
    static char buf[2048];
    snprintf(buf, sizeof buf, "%s", text);
    sp_secret_scrub(buf, sizeof buf, extra);
    return buf;
}

TEST(short_secret_never_mangles_words)
{
    sp_secret_forget_all();
    sp_secret_register("u");
    sp_secret_register("in");
    sp_secret_register("ou");
    CHECK_STR(scrub("routine maintenance in progress", NULL),
              "routine maintenance *** progress");
    CHECK_STR(scrub("u", NULL), "***");
    CHECK_STR(scrub("user=u,", NULL), "user=***,");
    CHECK_STR(scrub("(ou)", NULL), "(***)");
    CHECK_STR(scrub("you,out;ou", NULL), "you,out;***");
}

TEST(short_secret_whole_tokens)
{
    sp_secret_forget_all();
    sp_secret_register("SSL");
    sp_secret_register("eu-north-7");
    CHECK_STR(scrub("Invalid value \"SSL\" for configuration property \"security.protocol\"", NULL),
              "Invalid value \"***\" for configuration property \"security.protocol\"");
    CHECK_STR(scrub("SASL_SSL and SSLv3 and SSL", NULL), "SASL_SSL and SSLv3 and ***");
    CHECK_STR(scrub("region 'eu-north-7' vs eu-north-70", NULL), "region '***' vs eu-north-70");
}

TEST(long_secret_anywhere)
{
    sp_secret_forget_all();
    sp_secret_register("kpass-sigma-77xyz");
    CHECK_STR(scrub("auth=Xkpass-sigma-77xyzY end", NULL), "auth=X***Y end");
    CHECK_STR(scrub("a kpass-sigma-77xyz b kpass-sigma-77xyz", NULL), "a *** b ***");
}

TEST(addresses_and_urls_by_parts)
{
    sp_secret_forget_all();
    sp_secret_register("kb1.internal:9092,kb2.internal:9093");
    sp_secret_register("http://user:pw0rd@minio.lan:9000/base?x=1");
    sp_secret_register("[fd00::5]:9094");
    CHECK_STR(scrub("kb2.internal:9093/bootstrap: Connect to kb1.internal failed", NULL),
              "***/bootstrap: Connect to *** failed");
    CHECK_STR(scrub("Could not resolve host: minio.lan; user:pw0rd; pw0rd", NULL),
              "Could not resolve host: ***; ***; ***");
    CHECK_STR(scrub("connect fd00::5 failed", NULL), "connect *** failed");
    /* the scheme and the port alone are not secrets */
    CHECK_STR(scrub("http on port 9092", NULL), "http on port 9092");
}

TEST(json_and_pem_values_whole_only)
{
    sp_secret_forget_all();
    sp_secret_register("{\"type\": \"service_account\", \"client_email\": \"a@b.c\"}");
    CHECK_STR(scrub("a service_account, a@b.c", NULL), "a service_account, a@b.c");
}

TEST(longest_first_and_extra)
{
    sp_secret_forget_all();
    sp_secret_register("abc");
    sp_secret_register("abc-defgh-ijklmn");
    CHECK_STR(scrub("v=abc-defgh-ijklmn", NULL), "v=***");
    CHECK_STR(scrub("v=zeta,abc", "zeta"), "v=***,***");
    CHECK_STR(scrub("nothing registered here", NULL), "nothing registered here");
    sp_secret_forget_all();
    CHECK_STR(scrub("v=abc", NULL), "v=abc");
}

TEST(cannot_grow_cuts)
{
    sp_secret_forget_all();
    sp_secret_register("k");
    char buf[8] = "a k b k";
    sp_secret_scrub(buf, sizeof buf, NULL);
    CHECK_STR(buf, "a ***"); /* no room for the rest: cut */
    char tiny[4] = "x k";
    sp_secret_scrub(tiny, sizeof tiny, NULL);
    CHECK_STR(tiny, "x ");
}

TEST(every_error_message)
{
    sp_secret_forget_all();
    sp_secret_register("hunter2");
    sp_error e = SP_ERROR_INIT;
    sp_error_set(&e, SP_EIO, 0, "cannot connect with %s to %s", "hunter2", "host");
    CHECK_STR(e.msg, "cannot connect with *** to host");
    /* a secret at the cut is recognised before the message is cut */
    sp_secret_register("zz-secret-at-the-end-0123456789");
    char pad[1100];
    memset(pad, 'x', 1010);
    pad[1010] = '\0';
    sp_error e2 = SP_ERROR_INIT;
    sp_error_set(&e2, SP_EIO, 0, "%s zz-secret-at-the-end-0123456789", pad);
    CHECK(strstr(e2.msg, "zz-secret") == NULL);
    sp_error_prefix(&e2, "pipe '%s'", "hunter2");
    CHECK(strncmp(e2.msg, "pipe '***': ", 12) == 0);
}

TEST(tb_secret_values_registered)
{
    sp_secret_forget_all();
    sp_error err = SP_ERROR_INIT;
    sp_env *env = sp_env_new_empty();
    CHECK(env != NULL);
    sp_env_set(env, "REGION", "eu-north-7");
    sp_env_set(env, "HOST", "sendpoint.lan");
    char *v = NULL;
    CHECK_INT(sp_env_resolve(env, "http://{{ tb_secret('HOST') }}:9000", "x", &v, NULL, &err), 0);
    CHECK_STR(v, "http://sendpoint.lan:9000");
    free(v);
    CHECK_INT(sp_env_resolve(env, "{{ tb_secret('NOPE', 'dflt-value') }}", "x", &v, NULL, &err),
              0);
    free(v);
    CHECK_INT(sp_env_resolve(env, "{{tb_secret('REGION')}}", "x", &v, NULL, &err), 0);
    free(v);
    CHECK_INT(sp_env_resolve(env, "plain-value", "x", &v, NULL, &err), 0);
    free(v);
    CHECK_STR(scrub("eu-north-7 sendpoint.lan http://sendpoint.lan:9000 dflt-value plain-value",
                    NULL),
              "*** *** *** *** plain-value");
    sp_env_free(env);
}

int main(void)
{
    RUN(short_secret_never_mangles_words);
    RUN(short_secret_whole_tokens);
    RUN(long_secret_anywhere);
    RUN(addresses_and_urls_by_parts);
    RUN(json_and_pem_values_whole_only);
    RUN(longest_first_and_extra);
    RUN(cannot_grow_cuts);
    RUN(every_error_message);
    RUN(tb_secret_values_registered);
    sp_secret_forget_all();
    return sp_test_done();
}
