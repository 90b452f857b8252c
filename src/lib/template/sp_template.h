/* sp_template: Tinybird's SQL templates, rendered safely.
 *
 * Tinybird's template language is Tornado's with Python expressions:
 * `{{ expr }}`, `{% if %}…{% elif %}…{% else %}…{% end %}`, `{% for x in
 * … %}`, `{% set x = … %}`, `{% while %}`, `{% break %}`, `{% continue %}`,
 * `{% try %}…{% except %}…{% end %}`, `{# comment #}`.  Expressions are a
 * Python subset (literals, lists, tuples, dicts, arithmetic, comparisons,
 * `in`, `and`/`or`/`not`, `x if c else y`, subscripts, slices, calls and
 * methods) evaluated here, never by an interpreter.  Typed parameter
 * functions (String, Int8…UInt256, Float32/64, Boolean, Date, DateTime,
 * DateTime64, Array, JSON), column(), columns(), symbol(), table(),
 * sql_and(), defined(), split_to_array(), date_diff_in_*(), day_diff(),
 * sql_unescape(), enumerate_with_last(), error(), custom_error() and the
 * usual Python builtins are documented in docs/templates.md.
 *
 * Safety: a value leaves `{{ }}` only as a quoted and escaped ClickHouse
 * literal, a number re-printed from its parsed value, or an identifier
 * inside backquotes with its backquotes and backslashes escaped; table()
 * takes identifiers only.  Nothing a request sends is pasted raw. */
#ifndef SP_TEMPLATE_H
#define SP_TEMPLATE_H

#include <stddef.h>

#include "sinkpipe.h"
#include "sp_buf.h"

/* sp_template_is_templated: 1 when the text contains {{ or {%. */
int sp_template_is_templated(const char *src);

/* Flags of sp_template_render_ex. */
#define SP_TEMPLATE_CHECK 1u /* Tinybird's test mode: a parameter with no value
                                takes its default, else a placeholder of its
                                type (0, '2019-01-01 00:00:00', '__no_value__',
                                `placeholder`, [0,0]); error() and
                                custom_error() render a comment.  What `check`
                                runs to validate a pipe without a request. */

/* How a failed render asks to be answered over HTTP. */
typedef struct sp_template_status {
    int http_status; /* 400 for a bad or missing parameter or error(); the
                        code given to custom_error(); 0 for a template
                        that is wrong (SP_EDEF: a server-side problem) */
    char *body;      /* custom_error(): the JSON answer (its dict as is, or
                        {"error": "message"}); NULL otherwise.  Caller frees. */
} sp_template_status;

/* sp_template_render: render src with params into out.  Errors (SP_EPARAM
 * for a bad or missing parameter and for error()/custom_error(), SP_EDEF
 * for template syntax and evaluation errors, SP_ETOOBIG for a render past
 * its work budget or out's ceiling) name the parameter or the template line;
 * `where` (may be NULL) prefixes them, e.g. "pipes/x.pipe:12". */
int sp_template_render(const char *src, const sp_param *params, size_t nparams,
                       const char *where, sp_buf *out, sp_error *err);

/* sp_template_render_ex: the same with flags (SP_TEMPLATE_CHECK) and, when
 * st is not NULL, the HTTP answer a failure asks for (zeroed first; free
 * st->body). */
int sp_template_render_ex(const char *src, const sp_param *params, size_t nparams,
                          const char *where, unsigned flags, sp_buf *out,
                          sp_template_status *st, sp_error *err);

/* Declared parameters of a template (for listings and the HTTP API). */
typedef struct sp_tparam {
    char *name;
    char *type;        /* "String", "DateTime", "Array(Int32)", ... */
    char *default_val; /* text (Python str() of the default) or NULL */
    char *description; /* or NULL */
    int required;
} sp_tparam;

/* sp_template_params: every parameter the template reads, first use first:
 * typed declarations give the type, default, description and `required`
 * (a later declaration fills in what an earlier one left out); a name read
 * only bare or through defined() is a String.  Names assigned by
 * {% set %}/{% for %} are not parameters.  Syntax errors are SP_EDEF. */
int sp_template_params(const char *src, sp_tparam **out, size_t *n, sp_error *err);
void sp_tparams_free(sp_tparam *v, size_t n);

#endif
