// sp-deps: sp_buf sp_error sp_type sp_batch sp_ch_escape
#include <stdlib.h>
#include <string.h>

#include "sp_batch.h"
#include "sp_error.h"
#include "sp_test.h"
#include "sp_type.h"

/* parse then format; returns a static copy of the canonical text or the
 * error message */
static const char *canon(const char *text)
{
    static char out[1200];
    sp_error err = SP_ERROR_INIT;
    sp_type *t = NULL;
    if (sp_type_parse(text, &t, &err)) {
        snprintf(out, sizeof out, "ERR %s", err.msg);
        return out;
    }
    sp_buf b = SP_BUF_INIT(4096);
    sp_type *c = sp_type_clone(t);
    if (!c || sp_type_format(c, &b, &err))
        snprintf(out, sizeof out, "ERR format %s", err.msg);
    else
        snprintf(out, sizeof out, "%s", b.data);
    sp_buf_release(&b);
    sp_type_free(c);
    sp_type_free(t);
    return out;
}

TEST(simple_types_round_trip)
{
    static const char *const names[] = {
        "Nothing", "Bool", "Int8", "Int16", "Int32", "Int64", "Int128", "Int256", "UInt8",
        "UInt16", "UInt32", "UInt64", "UInt128", "UInt256", "Float32", "Float64", "String",
        "UUID", "Date", "Date32", "DateTime", "JSON", "IPv4", "IPv6",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECK_STR(canon(names[i]), names[i]);
}

TEST(parametric_types)
{
    CHECK_STR(canon("FixedString(16)"), "FixedString(16)");
    CHECK_STR(canon("DateTime('UTC')"), "DateTime('UTC')");
    CHECK_STR(canon("DateTime64(3)"), "DateTime64(3)");
    CHECK_STR(canon("DateTime64( 6 , 'Europe/Madrid' )"), "DateTime64(6, 'Europe/Madrid')");
    CHECK_STR(canon("Decimal(18,4)"), "Decimal(18, 4)");
    CHECK_STR(canon("Decimal(9)"), "Decimal(9, 0)");
    CHECK_STR(canon("Decimal32(2)"), "Decimal(9, 2)");
    CHECK_STR(canon("Decimal64(4)"), "Decimal(18, 4)");
    CHECK_STR(canon("Decimal128(10)"), "Decimal(38, 10)");
    CHECK_STR(canon("Decimal256(20)"), "Decimal(76, 20)");
    CHECK_STR(canon("Enum8('a' = 1, 'b''c' = 2)"), "Enum8('a' = 1, 'b''c' = 2)");
    CHECK_STR(canon("Enum16('x)' = 1000)"), "Enum16('x)' = 1000)");
    CHECK_STR(canon("Object('json')"), "JSON");
    CHECK_STR(canon("JSON(max_dynamic_paths=10)"), "JSON");
    CHECK_STR(canon("Boolean"), "Bool");
    CHECK_STR(canon("BIGINT"), "Int64");
}

TEST(wrappers_and_nesting)
{
    CHECK_STR(canon("Nullable(DateTime64(3))"), "Nullable(DateTime64(3))");
    CHECK_STR(canon("LowCardinality(String)"), "LowCardinality(String)");
    CHECK_STR(canon("LowCardinality(Nullable(String))"), "LowCardinality(Nullable(String))");
    CHECK_STR(canon("Array(LowCardinality(String))"), "Array(LowCardinality(String))");
    CHECK_STR(canon("Array(Array(Nullable(Int32)))"), "Array(Array(Nullable(Int32)))");
    CHECK_STR(canon("Map(String,UInt64)"), "Map(String, UInt64)");
    CHECK_STR(canon("Map(LowCardinality(String), Array(Float64))"),
              "Map(LowCardinality(String), Array(Float64))");
    CHECK_STR(canon("Tuple(String, UInt8)"), "Tuple(String, UInt8)");
    CHECK_STR(canon("Tuple(a String, b Nullable(Int8), c Array(String))"),
              "Tuple(a String, b Nullable(Int8), c Array(String))");
    CHECK_STR(canon("Tuple(`a b` String)"), "Tuple(`a b` String)");
    CHECK_STR(canon(" Array ( String ) "), "Array(String)");

    sp_type *t = NULL;
    CHECK_OK(sp_type_parse("Map(String, Tuple(x Int8, y Decimal(10, 2)))", &t, NULL),
             (sp_error *)NULL);
    if (t) {
        CHECK_INT(t->kind, SP_T_MAP);
        CHECK_INT(t->key->kind, SP_T_STRING);
        CHECK_INT(t->elem->kind, SP_T_TUPLE);
        CHECK_INT(t->elem->nelems, 2);
        CHECK_STR(t->elem->names[1], "y");
        CHECK_INT(t->elem->elems[1]->precision, 10);
        CHECK_INT(t->elem->elems[1]->scale, 2);
    }
    sp_type_free(t);
    CHECK_OK(sp_type_parse("Nullable(DateTime64(3, 'UTC'))", &t, NULL), (sp_error *)NULL);
    if (t) {
        CHECK_INT(t->nullable, 1);
        CHECK_INT(t->scale, 3);
        CHECK_STR(t->tz, "UTC");
    }
    sp_type_free(t);
}

TEST(errors_name_text_and_position)
{
    CHECK_STR(canon("Strin"), "ERR type 'Strin': unknown type 'Strin' at position 1");
    CHECK_STR(canon("Array(Foo)"), "ERR type 'Array(Foo)': unknown type 'Foo' at position 7");
    CHECK_STR(canon("Array(String"), "ERR type 'Array(String': expected ')' at position 13");
    CHECK_STR(canon("Map(String)"), "ERR type 'Map(String)': expected ',' at position 11");
    CHECK_STR(canon("Decimal(5, 7)"),
              "ERR type 'Decimal(5, 7)': decimal scale greater than its precision at position 13");
    CHECK_STR(canon("DateTime64(12)"),
              "ERR type 'DateTime64(12)': number out of range at position 13");
    CHECK_STR(canon("String x"), "ERR type 'String x': unexpected text after the type at position 8");
    CHECK_STR(canon(""), "ERR type '': expected a type name at position 1");
    CHECK_STR(canon("Nullable(Array(String))"),
              "ERR type 'Nullable(Array(String))': nested type cannot be inside Nullable at position 10");
    CHECK_STR(canon("DateTime('UTC)"), "ERR type 'DateTime('UTC)': unterminated string at position 15");
    CHECK_STR(canon("Enum8()"), "ERR type 'Enum8()': enum without values at position 8");
    char deep[400] = "";
    for (int i = 0; i < 40; i++)
        memcpy(deep + i * 6, "Array(", 6);
    memcpy(deep + 240, "String", 7);
    CHECK(strstr(canon(deep), "nested too deeply") != NULL);
}

TEST(kind_classes)
{
    CHECK_INT(sp_kind_is_signed(SP_T_INT64), 1);
    CHECK_INT(sp_kind_is_signed(SP_T_UINT8), 0);
    CHECK_INT(sp_kind_is_unsigned(SP_T_BOOL), 1);
    CHECK_INT(sp_kind_is_unsigned(SP_T_UINT64), 1);
    CHECK_INT(sp_kind_is_bigint(SP_T_UINT256), 1);
    CHECK_INT(sp_kind_is_bigint(SP_T_INT64), 0);
    CHECK_INT(sp_kind_json_number(SP_T_DECIMAL), 1);
    CHECK_INT(sp_kind_json_number(SP_T_FLOAT32), 1);
    CHECK_INT(sp_kind_json_number(SP_T_BOOL), 0);
    CHECK_INT(sp_kind_json_number(SP_T_STRING), 0);
    CHECK_INT(sp_kind_json_number(SP_T_DATE), 0);
}

TEST(schema_new_find_free)
{
    sp_schema *s = sp_schema_new(3);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK_INT(s->ncols, 3);
    s->names[0] = strdup("a");
    s->names[2] = strdup("c");
    CHECK_OK(sp_type_parse("Array(String)", &s->types[0], NULL), (sp_error *)NULL);
    CHECK_INT(sp_schema_find(s, "a"), 0);
    CHECK_INT(sp_schema_find(s, "c"), 2);
    CHECK_INT(sp_schema_find(s, "b"), -1);
    CHECK_INT(sp_schema_find(NULL, "a"), -1);
    sp_schema_free(s);
    sp_schema_free(NULL);
}

int main(void)
{
    RUN(simple_types_round_trip);
    RUN(parametric_types);
    RUN(wrappers_and_nesting);
    RUN(errors_name_text_and_position);
    RUN(kind_classes);
    RUN(schema_new_find_free);
    return sp_test_done();
}
