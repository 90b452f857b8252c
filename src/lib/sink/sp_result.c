/* sp_result: the run result's owned parts (sinkpipe.h, sp_sink.h). */
#include <stdlib.h>
#include <string.h>

#include "sp_sink.h"
#include "sp_banned.h"

int sp_run_result_add_object(sp_run_result *res, const char *uri, uint64_t size,
                             uint64_t rows)
{
    if (!res || !uri)
        return SP_EINVAL;
    size_t n = strlen(uri);
    char *u = malloc(n + 1);
    if (!u)
        return SP_ENOMEM;
    memcpy(u, uri, n + 1);
    /* capacity: the next power of two >= nobjects, so grow when nobjects
     * is 0 or a power of two */
    size_t n0 = res->nobjects;
    if ((n0 & (n0 - 1)) == 0) {
        sp_object_info *o = realloc(res->objects, (n0 ? n0 * 2 : 1) * sizeof *o);
        if (!o) {
            free(u);
            return SP_ENOMEM;
        }
        res->objects = o;
    }
    sp_object_info *oi = &res->objects[res->nobjects++];
    oi->uri = u;
    oi->size = size;
    oi->rows = rows;
    return 0;
}

void sp_run_result_release(sp_run_result *res)
{
    if (!res)
        return;
    free(res->pipe);
    free(res->service);
    free(res->sql);
    free(res->preview);
    free(res->warning);
    for (size_t i = 0; i < res->nobjects; i++)
        free(res->objects[i].uri);
    free(res->objects);
    res->pipe = res->service = res->sql = res->preview = res->warning = NULL;
    res->objects = NULL;
    res->nobjects = 0;
}
