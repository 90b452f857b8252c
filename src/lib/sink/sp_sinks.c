/* sp_sinks: the sink registry (SP_SINKS in sp_sink.h): which sink
 * delivers a resolved pipe, which one undoes a journal entry. */
#include <string.h>

#include "sp_error.h"
#include "sp_sink.h"
#include "sp_banned.h"

#define SP_SINK_PTR_(w) &sp_sink_##w,
static const sp_sink_vt *const sinks[] = { SP_SINKS(SP_SINK_PTR_) };

int sp_sink_for(const sp_sinkcfg *cfg, const sp_sink_vt **out, sp_error *err)
{
    for (size_t i = 0; i < sizeof sinks / sizeof sinks[0]; i++)
        if (sinks[i]->serves(cfg)) {
            *out = sinks[i];
            return 0;
        }
    return sp_error_set(err, SP_EDEF, 0, "pipe '%s': no sink delivers it",
                        cfg->pipe ? cfg->pipe->name : "");
}

const sp_sink_vt *sp_sink_for_journal(const char *store)
{
    for (size_t i = 0; store && i < sizeof sinks / sizeof sinks[0]; i++)
        if (sinks[i]->journal && !strcmp(sinks[i]->journal, store))
            return sinks[i];
    return NULL;
}
