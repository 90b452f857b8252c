/* fuzz_time: sp_parse_time (ISO 8601 date / date-time, UTC).
 *
 * Input: the text.  Invariant: a result is within the years 0000-9999 and a
 * bare date is midnight. */
#include "fuzz.h"

#include "sinkpipe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1024)
        return 0;
    char *text = fz_strndup(data, size);
    int64_t t = 0;
    sp_error err = SP_ERROR_INIT;
    if (sp_parse_time(text, &t, &err) == 0) {
        fz_check(t >= -62167219200LL && t <= 253402387199LL, "'%s' parsed to %lld", text,
                 (long long)t);
        if (strlen(text) == 10)
            fz_check(t % 86400 == 0, "date '%s' parsed to %lld, not midnight", text,
                     (long long)t);
    } else {
        fz_check_msg(&err);
    }
    free(text);
    return 0;
}
