/* sp_ch_views: the ClickHouse engine's materialized views (internal to the
 * engine). */
#ifndef SP_CH_VIEWS_H
#define SP_CH_VIEWS_H

#include <stddef.h>

#include "sp_engine.h"

/* sp_ch_views_ensure: sp_engine_vt's ensure_views (sp_engine.h). */
int sp_ch_views_ensure(sp_engine *base, const sp_mview *v, size_t n, sp_error *err);

#endif
