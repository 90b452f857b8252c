/* sp_template: Tinybird's SQL templates, rendered safely.
 *
 * `{{ expr }}` and `{% if … %}…{% elif … %}…{% else %}…{% end %}` blocks
 * (Tornado-style syntax as Tinybird uses it).  Typed parameter functions
 * String, Boolean, Int8…Int256, UInt8…UInt256, Float32, Float64, Date,
 * DateTime, DateTime64, Array(name, 'Type', default=…) take the value of a
 * request parameter, check it against the type and render it as a SQL
 * literal (strings quoted and escaped, so no parameter can inject SQL):
 *   {{ DateTime(start, '2024-01-01 00:00:00', required=False, description="…") }}
 * Also `defined(x)`, `column(x, 'default')`, `columns(x)`, `symbol(x)`,
 * `sql_and(...)`-free subset documented in docs/templates.md, comparisons
 * and and/or/not in conditions, `error('msg')`. */
#ifndef SP_TEMPLATE_H
#define SP_TEMPLATE_H

#include <stddef.h>

#include "sinkpipe.h"
#include "sp_buf.h"

/* sp_template_is_templated: 1 when the text contains {{ or {%. */
int sp_template_is_templated(const char *src);

/* sp_template_render: render src with params into out.  Errors (SP_EPARAM
 * for a bad or missing required parameter, SP_EDEF for template syntax)
 * name the parameter or the template position; `where` (may be NULL)
 * prefixes them, e.g. "pipes/x.pipe:12". */
int sp_template_render(const char *src, const sp_param *params, size_t nparams,
                       const char *where, sp_buf *out, sp_error *err);

/* Declared parameters of a template (for listings and the HTTP API). */
typedef struct sp_tparam {
    char *name;
    char *type;        /* "String", "DateTime", ... */
    char *default_val; /* text or NULL */
    char *description; /* or NULL */
    int required;
} sp_tparam;

int sp_template_params(const char *src, sp_tparam **out, size_t *n, sp_error *err);
void sp_tparams_free(sp_tparam *v, size_t n);

#endif
