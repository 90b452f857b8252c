/* sp_type: ClickHouse data types as the library understands them.
 *
 * A type is parsed from its ClickHouse name ("Nullable(DateTime64(3))",
 * "Array(LowCardinality(String))", "Map(String, UInt64)", "Decimal(18, 4)")
 * and printed back in canonical form.  Nullable and LowCardinality are flags
 * on the inner type, not kinds of their own. */
#ifndef SP_TYPE_H
#define SP_TYPE_H

#include <stddef.h>
#include <stdint.h>

#include "sinkpipe.h"
#include "sp_buf.h"

typedef enum sp_kind {
    SP_T_NOTHING = 0, /* the type of a bare NULL */
    SP_T_BOOL,
    SP_T_INT8, SP_T_INT16, SP_T_INT32, SP_T_INT64, SP_T_INT128, SP_T_INT256,
    SP_T_UINT8, SP_T_UINT16, SP_T_UINT32, SP_T_UINT64, SP_T_UINT128, SP_T_UINT256,
    SP_T_FLOAT32, SP_T_FLOAT64,
    SP_T_DECIMAL,    /* precision, scale */
    SP_T_STRING,
    SP_T_FIXEDSTRING, /* precision = N */
    SP_T_UUID,
    SP_T_DATE,       /* days since 1970-01-01 */
    SP_T_DATE32,
    SP_T_DATETIME,   /* seconds since the epoch, UTC */
    SP_T_DATETIME64, /* ticks of 10^-scale seconds, UTC */
    SP_T_ARRAY,      /* elem */
    SP_T_MAP,        /* key, elem (value) */
    SP_T_TUPLE,      /* elems[nelems] (names optional) */
    SP_T_JSON,       /* a JSON document, carried as its text */
    SP_T_IPV4, SP_T_IPV6,
    SP_T_ENUM8, SP_T_ENUM16, /* carried as their string value */
    SP_T_OTHER /* a type sinkpipe does not model (Dynamic, Variant(…),
                  AggregateFunction(…), geo types, Interval…): its values
                  are carried as ClickHouse's text and written as strings;
                  `raw` holds the type's name */
} sp_kind;

typedef struct sp_type {
    sp_kind kind;
    uint8_t nullable;        /* Nullable(T) */
    uint8_t low_cardinality; /* LowCardinality(T) */
    int precision;           /* Decimal P, FixedString N */
    int scale;               /* Decimal S, DateTime64 precision */
    char *tz;                /* DateTime('tz') timezone or NULL */
    struct sp_type *elem;    /* Array elem, Map value */
    struct sp_type *key;     /* Map key */
    struct sp_type **elems;  /* Tuple elements */
    char **names;            /* Tuple element names (entries may be NULL) */
    size_t nelems;
    char *enum_body;         /* Enum8('a' = 1, ...) text inside the parens */
    /* the type as ClickHouse names it, when the kind alone cannot say it:
     * SP_T_OTHER, and SimpleAggregateFunction(f, T) (whose values are
     * T's: the kind is T's) */
    char *raw;
} sp_type;

/* the deepest nesting of types accepted (Array(Array(...)) 32 levels deep);
 * datafile validation refuses deeper column types with their file:line */
#define SP_TYPE_MAX_DEPTH 32

/* sp_type_parse: parse a ClickHouse type name; *out is heap-allocated (free
 * with sp_type_free).  Errors name the offending text and position. */
int sp_type_parse(const char *text, sp_type **out, sp_error *err);
void sp_type_free(sp_type *t);
sp_type *sp_type_clone(const sp_type *t); /* NULL on ENOMEM */
sp_type *sp_type_new(sp_kind kind);       /* zeroed, NULL on ENOMEM */
/* sp_type_format: append the canonical ClickHouse name to out. */
int sp_type_format(const sp_type *t, sp_buf *out, sp_error *err);

/* sp_type_tz_is_utc: the time zone name is one of UTC's names ("UTC",
 * "Etc/UTC", "Zulu", "GMT", …): times in it are the epoch seconds as they
 * are. */
int sp_type_tz_is_utc(const char *tz);

/* Classification helpers used by the formatters. */
int sp_kind_is_signed(sp_kind k);   /* Int8..Int64 (held in i64) */
int sp_kind_is_unsigned(sp_kind k); /* Bool, UInt8..UInt64 (held in u64) */
int sp_kind_is_bigint(sp_kind k);   /* Int128/256, UInt128/256 (text) */
/* 1 when the JSONEachRow text of the kind is a bare number (not quoted). */
int sp_kind_json_number(sp_kind k);

#endif
