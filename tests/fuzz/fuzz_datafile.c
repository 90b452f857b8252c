/* fuzz_datafile: the .pipe / .datasource / .connection parsers, the
 * validators, and the writer round trip.
 *
 * The input is one file's text, given to all three parsers as an exact-size
 * buffer (no terminator, so a read past the end trips ASan).  Invariant:
 * for every definition that parses and writes, write -> parse -> write is a
 * fixed point (the property tests/unit/test_datafile.c checks by example). */
#include "fuzz.h"

#include "sp_error.h"
#include "sp_model.h"

static void pipe_case(const char *text, size_t len)
{
    sp_error err = SP_ERROR_INIT;
    sp_pipe *p = NULL;
    if (sp_datafile_parse_pipe("pipes/fuzz.pipe", text, len, &p, &err) == 0) {
        sp_error e2 = SP_ERROR_INIT, e3 = SP_ERROR_INIT;
        sp_sink_def sd;
        sp_pipe_validate(p, &e2);
        sp_pipe_sink(p, &sd, &e3);
        sp_buf a = SP_BUF_INIT(1 << 24), b = SP_BUF_INIT(1 << 24);
        sp_error ew = SP_ERROR_INIT;
        if (sp_pipe_write(p, &a, &ew) == 0) {
            sp_pipe *q = NULL;
            sp_error er = SP_ERROR_INIT;
            int rc = sp_datafile_parse_pipe("pipes/fuzz.pipe", a.data ? a.data : "", a.len,
                                            &q, &er);
            fz_check(rc == 0, "written pipe does not parse: %s\n--- written:\n%.*s", er.msg,
                     (int)a.len, a.data ? a.data : "");
            if (q && sp_pipe_write(q, &b, &er) == 0)
                fz_check(a.len == b.len && (!a.len || !memcmp(a.data, b.data, a.len)),
                         "pipe write is not a fixed point\n--- first:\n%.*s\n--- second:\n%.*s",
                         (int)a.len, a.data, (int)b.len, b.data ? b.data : "");
            sp_pipe_free(q);
        }
        sp_buf_release(&a);
        sp_buf_release(&b);
    } else {
        fz_check_msg(&err);
    }
    sp_pipe_free(p);
}

static void datasource_case(const char *text, size_t len)
{
    sp_error err = SP_ERROR_INIT;
    sp_datasource *d = NULL;
    if (sp_datafile_parse_datasource("datasources/fuzz.datasource", text, len, &d, &err) == 0) {
        sp_error e2 = SP_ERROR_INIT;
        sp_datasource_validate(d, &e2);
        sp_buf a = SP_BUF_INIT(1 << 24), b = SP_BUF_INIT(1 << 24);
        sp_error ew = SP_ERROR_INIT;
        if (sp_datasource_write(d, &a, &ew) == 0) {
            sp_datasource *q = NULL;
            sp_error er = SP_ERROR_INIT;
            int rc = sp_datafile_parse_datasource("datasources/fuzz.datasource",
                                                  a.data ? a.data : "", a.len, &q, &er);
            fz_check(rc == 0, "written datasource does not parse: %s\n--- written:\n%.*s",
                     er.msg, (int)a.len, a.data ? a.data : "");
            if (q && sp_datasource_write(q, &b, &er) == 0)
                fz_check(a.len == b.len && (!a.len || !memcmp(a.data, b.data, a.len)),
                         "datasource write is not a fixed point\n--- first:\n%.*s\n"
                         "--- second:\n%.*s",
                         (int)a.len, a.data, (int)b.len, b.data ? b.data : "");
            sp_datasource_free(q);
        }
        sp_buf_release(&a);
        sp_buf_release(&b);
    } else {
        fz_check_msg(&err);
    }
    sp_datasource_free(d);
}

static void connection_case(const char *text, size_t len)
{
    sp_error err = SP_ERROR_INIT;
    sp_connection *c = NULL;
    if (sp_datafile_parse_connection("connections/fuzz.connection", text, len, &c, &err) == 0) {
        sp_error e2 = SP_ERROR_INIT;
        sp_connection_validate(c, &e2);
        sp_buf a = SP_BUF_INIT(1 << 24), b = SP_BUF_INIT(1 << 24);
        sp_error ew = SP_ERROR_INIT;
        if (sp_connection_write(c, &a, &ew) == 0) {
            sp_connection *q = NULL;
            sp_error er = SP_ERROR_INIT;
            int rc = sp_datafile_parse_connection("connections/fuzz.connection",
                                                  a.data ? a.data : "", a.len, &q, &er);
            fz_check(rc == 0, "written connection does not parse: %s\n--- written:\n%.*s",
                     er.msg, (int)a.len, a.data ? a.data : "");
            if (q && sp_connection_write(q, &b, &er) == 0)
                fz_check(a.len == b.len && (!a.len || !memcmp(a.data, b.data, a.len)),
                         "connection write is not a fixed point\n--- first:\n%.*s\n"
                         "--- second:\n%.*s",
                         (int)a.len, a.data, (int)b.len, b.data ? b.data : "");
            sp_connection_free(q);
        }
        sp_buf_release(&a);
        sp_buf_release(&b);
    } else {
        fz_check_msg(&err);
    }
    sp_connection_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1 << 20))
        return 0;
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    if (size)
        memcpy(text, data, size);
    pipe_case(text, size);
    datasource_case(text, size);
    connection_case(text, size);
    free(text);
    return 0;
}
