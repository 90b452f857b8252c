/* sp_template_int: the expression evaluator behind sp_template (internal). */
#ifndef SP_TEMPLATE_INT_H
#define SP_TEMPLATE_INT_H

#include <stddef.h>

#include "sinkpipe.h"
#include "sp_buf.h"
#include "sp_template.h"

/* declarations collected by sp_template_params (v grows; caller frees
 * with sp_tparams_free) */
typedef struct sp__tcollect {
    sp_tparam *v;
    size_t n, cap;
} sp__tcollect;

/* sp__texpr_render: evaluate the expression src[a, b) and append its SQL
 * rendering to out (out NULL: evaluate only).  With collect != NULL, typed
 * parameter functions record their declaration and never fail on missing
 * or bad values.  where prefixes error messages (may be NULL). */
int sp__texpr_render(const char *src, size_t a, size_t b, const sp_param *params,
                     size_t nparams, const char *where, sp_buf *out, sp__tcollect *collect,
                     sp_error *err);

/* sp__texpr_truth: evaluate a condition ({% if … %}); *truth = 0 or 1. */
int sp__texpr_truth(const char *src, size_t a, size_t b, const sp_param *params,
                    size_t nparams, const char *where, int *truth, sp__tcollect *collect,
                    sp_error *err);

#endif
