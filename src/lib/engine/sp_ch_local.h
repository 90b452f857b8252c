/* sp_ch_local: a running daemon's embedded ClickHouse, served to the
 * project's other processes over a unix socket (see sp_ch_local.c). */
#ifndef SP_CH_LOCAL_H
#define SP_CH_LOCAL_H

#include "sinkpipe.h"

typedef struct sp_ch_local sp_ch_local;

/* sp_ch_local_start: serve on sock_path (replaced if it exists; mode 0600).
 * The process must already use its embedded database (its folder is the
 * one served). */
int sp_ch_local_start(const char *sock_path, sp_ch_local **out, sp_error *err);
/* sp_ch_local_stop: stop serving, wait for running statements, remove
 * nothing (the caller unlinks the socket). */
void sp_ch_local_stop(sp_ch_local *l);

#endif
