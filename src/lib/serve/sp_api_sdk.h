/* sp_api_sdk: the daemon's answers to the Tinybird SDK and CLI — local
 * tokens, workspaces, builds, deployments (sp_api_sdk.c has the list).
 * Internal to the daemon. */
#ifndef SP_API_SDK_H
#define SP_API_SDK_H

#include "sp_serve_int.h"

typedef struct sp_sdk sp_sdk;

/* sp_sdk_new: the state of these endpoints for one server (workspace
 * names, the live deployment); local_tokens: SINKPIPE_SERVE_LOCAL_TOKENS */
int sp_sdk_new(int local_tokens, sp_sdk **out, sp_error *err);
void sp_sdk_free(sp_sdk *k);

/* sp_api_sdk_public: GET /tokens (before any token is asked for); 1 when
 * the request was answered */
int sp_api_sdk_public(struct sp_server *s, const sp_http_req *req, sp_http_resp *resp);
/* sp_api_sdk_route: the other paths, for an authenticated caller (admin:
 * the admin token); 1 when answered, 0 when the path is not one of them.
 * Called with s->defs held for reading (builds let it go to reload). */
int sp_api_sdk_route(struct sp_server *s, const sp_http_req *req, sp_http_resp *resp,
                     int admin);

#endif
