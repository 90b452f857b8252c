/* sp_engines: the engine registry (SP_ENGINES in sp_engines.h). */
#include "sp_engines.h"

#include <stdio.h>
#include <string.h>

#include "sp_env.h"
#include "sp_error.h"
#include "sp_keys_env.h"
#include "sp_banned.h"

#define SP_ENGINE_PTR_(w) &sp_engine_backend_##w,
static const sp_engine_backend *const engines[] = { SP_ENGINES(SP_ENGINE_PTR_) };
#define NENGINES (sizeof engines / sizeof engines[0])

const sp_engine_backend *sp_engine_backend_find(const char *name)
{
    for (size_t i = 0; name && i < NENGINES; i++)
        if (!strcmp(engines[i]->name, name))
            return engines[i];
    return NULL;
}

const char *sp_engine_backend_names(char *buf, size_t bufsz)
{
    size_t n = 0;
    if (bufsz)
        buf[0] = '\0';
    for (size_t i = 0; i < NENGINES && n < bufsz; i++) {
        int k = snprintf(buf + n, bufsz - n, "%s%s", n ? ", " : "", engines[i]->name);
        if (k > 0)
            n += (size_t)k;
    }
    return buf;
}

int sp_engine_backend_for(const sp_env *env, const sp_engine_backend **out, sp_error *err)
{
    const char *which = NULL;
    *out = NULL;
    int rc = sp_keys_env_enum(env, "SINKPIPE_ENGINE", &which, err);
    if (rc)
        return rc; /* not one of the key table's values */
    *out = which && *which ? sp_engine_backend_find(which) : engines[0];
    /* the key table accepts exactly the registry's names (test_registries
     * holds them equal): a value it accepts that no entry has is our bug */
    return *out ? 0
                : sp_error_set(err, SP_EINTERNAL, 0, "SINKPIPE_ENGINE: no engine '%.64s'", which);
}
