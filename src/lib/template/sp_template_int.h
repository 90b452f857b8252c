/* sp_template_int: the pieces behind sp_template (internal).
 *
 *   sp_template.c       the template: tags, blocks, statements, the API
 *   sp_template_expr.c  expressions: a Python subset parsed to a tree
 *   sp_template_eval.c  the tree evaluated; the template's variables
 *   sp_template_val.c   values (Python-like), comparisons, str()/SQL output
 *   sp_template_fn.c    Tinybird's functions (and the dispatch of all)
 *   sp_template_typed.c Tinybird's typed parameters (String(), Int32()…)
 *   sp_template_py.c    Python builtins and methods
 *
 * Values are small structs; strings, lists, tuples and dicts live in
 * reference-counted objects (immutable once built).  Every function that
 * returns a value gives the caller one reference (release with sp__tv_drop).
 * Every failure goes through sp__tfail (first failure wins) and returns the
 * negative sp_code. */
#ifndef SP_TEMPLATE_INT_H
#define SP_TEMPLATE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "sinkpipe.h"
#include "sp_buf.h"
#include "sp_template.h"

/* ------------------------------------------------------------------ values */

enum {
    TV_NONE,
    TV_BOOL,
    TV_INT,   /* u.i */
    TV_BIG,   /* an integer past 64 bits (Int128/256 params): u.o->s digits */
    TV_FLOAT, /* u.f */
    TV_STR,   /* u.o->s, u.o->n bytes (UTF-8) */
    TV_LIST,  /* u.o->items, u.o->n */
    TV_TUPLE,
    TV_DICT,  /* u.o->items: key, value, key, value … (u.o->n pairs) */
    TV_PH     /* a parameter with no value while checking (Tinybird's Placeholder) */
};

#define TVF_RAW 1 /* a string that is SQL already (column(), Array(), sql_and()) */

typedef struct tobj {
    size_t rc;
    size_t n, cap;
    char *s;
    struct tv *items;
} tobj;

typedef struct tv {
    uint8_t kind;
    uint8_t flags;
    uint8_t sqlt; /* typed number (Int32(x), Float64(x)): 1 + index in sp__tnum_types */
    union {
        int64_t i;
        double f;
        tobj *o;
    } u;
} tv;

extern const char *const sp__tnum_types[]; /* "Int8" … "Float64", NULL */

/* --------------------------------------------------------- expression tree */

enum {
    N_NONE,
    N_CONST,
    N_NAME,
    N_LIST,
    N_TUPLE,
    N_DICT,  /* kids: key, value, … */
    N_CALL,  /* a: callee; kids: arguments (N_KW for name=value) */
    N_KW,    /* name; a: value */
    N_ATTR,  /* a: object; name */
    N_INDEX, /* a: object; b: index */
    N_SLICE, /* a: object; kids: start, stop, step (0 = absent) */
    N_UNARY, /* op '-', '+', '~'; a */
    N_NOT,
    N_BIN,   /* op; a, b */
    N_CMP,   /* kids: x0, op1, x1, op2, x2 … */
    N_AND,
    N_OR,
    N_IFE,   /* a if b else c */
    N_COMP   /* [a for targets in b if c]: kids: target names */
};

/* binary and comparison operators */
enum {
    OP_ADD = 1, OP_SUB, OP_MUL, OP_DIV, OP_FLOORDIV, OP_MOD, OP_BITAND, OP_BITOR, OP_BITXOR,
    OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN, OP_NOTIN, OP_IS, OP_ISNOT
};

typedef struct tnode {
    uint8_t kind, op;
    uint32_t a, b, c;
    uint32_t kids, nkids; /* index into tast.kids */
    uint32_t name, namelen; /* source span of a name */
    uint32_t pos, end;      /* source span of the node */
    tv val;                 /* N_CONST */
} tnode;

typedef struct tast {
    tnode *v;
    size_t n, cap;
    uint32_t *kids;
    size_t nk, capk;
} tast;

/* ------------------------------------------------------------- evaluation */

typedef struct tvar {
    char *name;
    tv v;
} tvar;

typedef struct tarr { /* a parameter declared Array(x, 'Type'): bare x is a list */
    char *name;
    char *etype;
} tarr;

typedef struct tctx {
    const char *src;
    const sp_param *params;
    size_t np;
    const char *where;
    unsigned flags; /* SP_TEMPLATE_CHECK */
    sp_error *err;
    int rc;
    tast *ast;
    tvar *vars;
    size_t nvars, capvars;
    tarr *arrays;
    size_t narrays;
    size_t steps; /* work done, against a budget */
    int depth;
    sp_template_status *status; /* may be NULL */
} tctx;

/* the work budget: loop iterations, list items built, recursion */
#define SP_TMPL_MAX_STEPS ((size_t)2000000)
#define SP_TMPL_MAX_ITEMS ((size_t)1000000)

int sp__tfail(tctx *c, int code, uint32_t pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int sp__toom(tctx *c);
int sp__tstep(tctx *c, size_t n, uint32_t pos);
/* sp__tgrow: make *v (of *cap elements of elem bytes) hold need elements */
int sp__tgrow(tctx *c, void **v, size_t *cap, size_t need, size_t elem);

/* values (sp_template_val.c) */
void sp__tv_drop(tv *v);
tv sp__tv_ref(const tv *v);
tv sp__tv_none(void);
tv sp__tv_bool(int b);
tv sp__tv_int(int64_t i);
tv sp__tv_float(double f);
int sp__tv_str(tctx *c, const char *s, size_t n, tv *out);
int sp__tv_strz(tctx *c, const char *s, tv *out);
int sp__tv_seq(tctx *c, int kind, size_t n, tv *out); /* n items, all None */
int sp__tv_push(tctx *c, tv *seq, tv item);           /* takes item */
int sp__tv_truthy(const tv *v);
const char *sp__tv_typename(const tv *v);
int sp__tv_isnum(const tv *v);
double sp__tv_num(const tv *v);
int sp__tv_eq(const tv *a, const tv *b);
/* sp__tv_cmp: *res <0, 0, >0; SP_EDEF (TypeError) when not comparable */
int sp__tv_cmp(tctx *c, const tv *a, const tv *b, int *res, uint32_t pos, const char *op);
/* Python str() / repr() into b */
int sp__tv_pystr(tctx *c, const tv *v, sp_buf *b, int repr);
int sp__tv_tostr(tctx *c, const tv *v, tv *out); /* str(v) as a value */
/* the SQL text of a value ({{ }}, sql_and); what names the expression in
 * the "evaluated to null" message */
int sp__tv_sql(tctx *c, const tv *v, sp_buf *b, const char *what, uint32_t pos);
/* ClickHouse string literal with Tinybird's escaping (sqlescape_for_string_expression) */
int sp__tsql_quote(tctx *c, const char *s, size_t n, sp_buf *b);
/* Tinybird's sqlescape (identifiers: `"` dropped) */
int sp__tsql_escape_ident(tctx *c, const char *s, size_t n, sp_buf *b);
int sp__tv_float_text(double f, char *buf, size_t n); /* Python repr of a float */
size_t sp__tutf8_len(const char *s, size_t n);
size_t sp__tutf8_off(const char *s, size_t n, size_t idx); /* byte offset of char idx */

/* variables (sp_template_eval.c) */
int sp__tvar_set(tctx *c, const char *name, size_t n, tv v); /* takes v */
const tv *sp__tvar_get(tctx *c, const char *name, size_t n);
const char *sp__tparam(tctx *c, const char *name, size_t n);

/* expressions: parsed (sp_template_expr.c) */
/* parse src[a, b) into ast; *root receives the node.  mode 0: one
 * expression (a trailing comma makes a tuple); 1: for-targets `x, y in`
 * stops before `in` (*stop receives the offset after the targets). */
int sp__texpr_parse(tctx *c, size_t a, size_t b, uint32_t *root);
int sp__texpr_parse_targets(tctx *c, size_t a, size_t b, uint32_t *kids, uint32_t *nkids,
                            size_t *stop);
void sp__tast_free(tast *a);
/* expressions: evaluated (sp_template_eval.c) */
int sp__texpr_eval(tctx *c, uint32_t node, tv *out);
/* a op b (OP_ADD …) as Python computes it */
int sp__texpr_binop(tctx *c, int op, const tv *a, const tv *b, tv *out, uint32_t pos);
/* assign value to targets (names in ast->kids[kids..kids+n)) */
int sp__texpr_assign(tctx *c, uint32_t kids, uint32_t nkids, const tv *v, uint32_t pos);
/* iterate a value: *items (caller drops each and frees) */
int sp__titer(tctx *c, const tv *v, tv **items, size_t *n, uint32_t pos);
void sp__titems_free(tv *items, size_t n);

/* functions (sp_template_fn.c) */
typedef struct targ {
    const char *kw; /* keyword or NULL */
    size_t kwlen;
    tv v;
    uint32_t node; /* the argument's node (its source text, a bare name) */
} targ;

/* sp__tcall: call function `name` (1 if it exists, else 0 in *found) */
int sp__tcall(tctx *c, const char *name, size_t n, targ *a, size_t na, uint32_t pos, tv *out,
              int *found);
int sp__tmethod(tctx *c, const tv *self, const char *name, size_t n, targ *a, size_t na,
                uint32_t pos, tv *out);
/* sp__tbuiltin: a Python builtin (sp_template_py.c); *found 0 if none */
int sp__tbuiltin(tctx *c, const char *fn, targ *a, size_t na, uint32_t pos, tv *out, int *found);
/* sp__tbind: args onto the names of spec (NULL-terminated): positional
 * first, then keywords; out[i] the bound value or NULL */
int sp__tbind(tctx *c, const char *fn, const char *const *spec, targ *a, size_t na,
              const tv **out, uint32_t pos);
/* sp__targ_opt: v, or None for an argument not given (NULL) */
const tv *sp__targ_opt(const tv *v);
/* sp__targ_name: the parameter name behind argument a (a bare name, else
 * its source text cut at 40 bytes, "?" for NULL) into buf, for messages */
void sp__targ_name(tctx *c, const targ *a, char *buf, size_t n);
/* sp__tbuf_to_raw: b's text as a raw SQL string into *out unless rc; b
 * released either way; the failure (rc, or out of memory) is kept in c */
int sp__tbuf_to_raw(tctx *c, sp_buf *b, int rc, tv *out);
/* the typed parameter functions (sp_template_typed.c): String(x, …),
 * Int32(x, …), Array(x, 'Type', …) as fn, and JSON(x, …) */
int sp__tfn_typed(tctx *c, const char *fn, targ *a, size_t na, uint32_t pos, tv *out);
int sp__tfn_json(tctx *c, targ *a, size_t na, uint32_t pos, tv *out);
/* sp__tparse_int: text as integer type k (0 Int8 … 3 Int64 … 11 UInt256):
 * 1 and *out, 0 invalid, -1 out of memory */
int sp__tparse_int(tctx *c, const char *s, int k, tv *out);
/* sp__tparse_float: text as Python's float() reads it */
int sp__tparse_float(const char *s, double *d);
int sp__tis_typed(const char *name, size_t n); /* a typed parameter function */
int sp__tis_function(const char *name, size_t n);
/* convert a parameter value to a list the way Array(x, etype) reads it */
int sp__tarray_list(tctx *c, const char *pname, const tv *x, const char *etype, tv *out,
                    uint32_t pos);

#endif
