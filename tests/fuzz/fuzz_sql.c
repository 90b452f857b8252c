/* fuzz_sql: the SQL tokenizer, the logical-time rewrite and node
 * composition.
 *
 * Input: NUL-separated parts.  Every part goes through sp_sql_logical_time.
 * With two or more parts, each part is a node `name\nsql` and the nodes are
 * composed, then the composition rewritten. */
#include "fuzz.h"

#include "sp_error.h"
#include "sp_sql.h"

#define MAXN 8

static void rewrite(const char *sql)
{
    sp_buf out = SP_BUF_INIT(1 << 22);
    sp_error err = SP_ERROR_INIT;
    if (sp_sql_logical_time(sql, 1764000000, &out, &err) != 0)
        fz_check_msg(&err);
    sp_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1 << 18))
        return 0;
    char *parts[MAXN];
    size_t np = fz_split(data, size, parts, MAXN);
    for (size_t i = 0; i < np; i++) {
        rewrite(parts[i]);
    }
    if (np >= 2) {
        const char *names[MAXN], *sqls[MAXN];
        for (size_t i = 0; i < np; i++) {
            char *nl = strchr(parts[i], '\n');
            names[i] = parts[i];
            if (nl) {
                *nl = '\0';
                sqls[i] = nl + 1;
            } else {
                sqls[i] = "";
            }
        }
        sp_buf out = SP_BUF_INIT(1 << 22);
        sp_error err = SP_ERROR_INIT;
        if (sp_sql_compose(names, sqls, np, &out, NULL, &err) == 0)
            rewrite(out.data ? out.data : "");
        else
            fz_check_msg(&err);
        sp_buf_release(&out);
    }
    fz_free_parts(parts, np);
    return 0;
}
