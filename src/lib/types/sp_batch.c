/* sp_batch: schema helpers (see sp_batch.h). */
#include "sp_batch.h"

#include <stdlib.h>
#include <string.h>
#include "sp_banned.h"

sp_schema *sp_schema_new(size_t ncols)
{
    sp_schema *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->names = calloc(ncols ? ncols : 1, sizeof *s->names);
    s->types = calloc(ncols ? ncols : 1, sizeof *s->types);
    if (!s->names || !s->types) {
        free(s->names);
        free(s->types);
        free(s);
        return NULL;
    }
    s->ncols = ncols;
    return s;
}

void sp_schema_free(sp_schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ncols; i++) {
        if (s->names)
            free(s->names[i]);
        if (s->types)
            sp_type_free(s->types[i]);
    }
    free(s->names);
    free(s->types);
    free(s);
}

long sp_schema_find(const sp_schema *s, const char *name)
{
    if (!s || !name || !s->names)
        return -1;
    for (size_t i = 0; i < s->ncols; i++)
        if (s->names[i] && strcmp(s->names[i], name) == 0)
            return (long)i;
    return -1;
}
