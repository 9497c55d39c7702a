#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "stdiolink.h"

/*
 * JSON in the tables below is written with single quotes to keep it readable; parse()
 * turns every ' into ". No test input needs a literal apostrophe.
 */
static JsonNode *
parse(const char *text)
{
	g_autofree char *json = g_strdup(text);
	g_autoptr(GError) error = NULL;
	JsonNode *node;

	g_strdelimit(json, "'", '"');
	node = stdiolink_json_parse(json, -1, &error);
	g_assert_no_error(error);
	return node;
}

static StdiolinkSchema *
schema_new(const char *text)
{
	g_autoptr(JsonNode) root = parse(text);
	g_autoptr(GError) error = NULL;
	StdiolinkSchema *schema =
		stdiolink_schema_new_from_json(json_node_get_object(root), &error);

	g_assert_no_error(error);
	g_assert_nonnull(schema);
	return schema;
}

static char *
node_text(JsonNode *node)
{
	return stdiolink_json_to_string(node, STDIOLINK_JSON_COMPACT);
}

/* the canonical (sorted-key) text of a single-quoted JSON literal */
static char *
canonical(const char *text)
{
	g_autoptr(JsonNode) node = parse(text);

	return node_text(node);
}

static StdiolinkValidation *
validate(StdiolinkSchema *schema, const char *config)
{
	g_autoptr(JsonNode) node = parse(config);

	return stdiolink_schema_validate(schema, json_node_get_object(node));
}

static void
assert_valid_text(StdiolinkSchema *schema, const char *config, const char *expected)
{
	g_autoptr(StdiolinkValidation) v = validate(schema, config);
	g_autofree char *text = stdiolink_validation_to_string(v);

	if (g_strcmp0(text, expected) != 0)
		g_test_message("config %s", config);
	g_assert_cmpstr(text, ==, expected);
	g_assert_cmpint(v->valid, ==, g_str_equal(expected, "OK"));
	g_assert_nonnull(v->filled);
	if (v->valid) {
		g_assert_cmpstr(v->error_field, ==, "");
		g_assert_null(v->error_message);
	}
}

static void
assert_filled(StdiolinkSchema *schema, const char *config, const char *expected_filled)
{
	g_autoptr(StdiolinkValidation) v = validate(schema, config);
	g_autofree char *filled =
		stdiolink_json_object_to_string(v->filled, STDIOLINK_JSON_COMPACT);
	g_autofree char *expected = canonical(expected_filled);

	g_assert_cmpstr(filled, ==, expected);
}

typedef struct {
	const char *schema;
	const char *config;
	const char *expected; /* stdiolink_validation_to_string() */
} ValidateCase;

static void
run_validate_cases(const ValidateCase *cases, guint n)
{
	for (guint i = 0; i < n; i++) {
		g_autoptr(StdiolinkSchema) schema = schema_new(cases[i].schema);

		g_test_message("case %u: %s with %s", i, cases[i].schema, cases[i].config);
		assert_valid_text(schema, cases[i].config, cases[i].expected);
	}
}

/* ---- types ---------------------------------------------------------------------------- */

static void
test_type_names_func(void)
{
	static const struct {
		const char *name;
		const char *canonical;
	} names[] = {
		{"string", "string"}, {"int", "int"},       {"integer", "int"}, {"int64", "int64"},
		{"double", "double"}, {"number", "double"}, {"bool", "bool"},   {"boolean", "bool"},
		{"object", "object"}, {"array", "array"},   {"enum", "enum"},   {"any", "any"},
	};
	StdiolinkFieldType type;

	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		g_assert_true(stdiolink_field_type_from_string(names[i].name, &type));
		g_assert_cmpstr(stdiolink_field_type_to_string(type), ==, names[i].canonical);
	}

	/* case-sensitive; unknown -> any */
	g_assert_false(stdiolink_field_type_from_string("Int", &type));
	g_assert_cmpint(type, ==, STDIOLINK_FIELD_ANY);
	g_assert_false(stdiolink_field_type_from_string(NULL, &type));
	g_assert_cmpint(type, ==, STDIOLINK_FIELD_ANY);
}

static void
test_type_checks_func(void)
{
	static const ValidateCase cases[] = {
		{"{'f':{'type':'string'}}", "{'f':'x'}", "OK"},
		{"{'f':{'type':'string'}}", "{'f':1}", "f: expected string"},
		{"{'f':{'type':'string'}}", "{'f':null}", "f: expected string"},
		{"{'f':{'type':'int'}}", "{'f':1}", "OK"},
		{"{'f':{'type':'int'}}", "{'f':1.0}", "OK"},
		{"{'f':{'type':'int'}}", "{'f':-2147483648}", "OK"},
		{"{'f':{'type':'int'}}", "{'f':2147483647}", "OK"},
		{"{'f':{'type':'int'}}", "{'f':1.5}", "f: expected integer, got decimal"},
		{"{'f':{'type':'int'}}", "{'f':3000000000}", "f: expected integer, got decimal"},
		{"{'f':{'type':'int'}}", "{'f':2147483648}", "f: expected integer, got decimal"},
		{"{'f':{'type':'int'}}", "{'f':-2147483649}", "f: expected integer, got decimal"},
		{"{'f':{'type':'int'}}", "{'f':'1'}", "f: expected integer"},
		{"{'f':{'type':'int'}}", "{'f':null}", "f: expected integer"},
		{"{'f':{'type':'integer'}}", "{'f':true}", "f: expected integer"},
		{"{'f':{'type':'int64'}}", "{'f':1.5}", "OK"},
		{"{'f':{'type':'int64'}}", "{'f':-9007199254740992}", "OK"},
		{"{'f':{'type':'int64'}}", "{'f':9007199254740992}", "OK"},
		{"{'f':{'type':'int64'}}", "{'f':1e16}", "f: integer out of safe range"},
		{"{'f':{'type':'int64'}}", "{'f':-1e16}", "f: integer out of safe range"},
		{"{'f':{'type':'int64'}}", "{'f':'1'}", "f: expected integer"},
		{"{'f':{'type':'double'}}", "{'f':1}", "OK"},
		{"{'f':{'type':'double'}}", "{'f':1.5}", "OK"},
		{"{'f':{'type':'double'}}", "{'f':'1.5'}", "f: expected number"},
		{"{'f':{'type':'number'}}", "{'f':null}", "f: expected number"},
		{"{'f':{'type':'bool'}}", "{'f':false}", "OK"},
		{"{'f':{'type':'bool'}}", "{'f':0}", "f: expected boolean"},
		{"{'f':{'type':'boolean'}}", "{'f':'true'}", "f: expected boolean"},
		{"{'f':{'type':'object'}}", "{'f':{}}", "OK"},
		{"{'f':{'type':'object'}}", "{'f':[]}", "f: expected object"},
		{"{'f':{'type':'object'}}", "{'f':null}", "f: expected object"},
		{"{'f':{'type':'array'}}", "{'f':[]}", "OK"},
		{"{'f':{'type':'array'}}", "{'f':{}}", "f: expected array"},
		{"{'f':{'type':'enum'}}", "{'f':'anything'}", "OK"},
		{"{'f':{'type':'enum'}}", "{'f':1}", "f: expected string for enum"},
		{"{'f':{'type':'any'}}", "{'f':null}", "OK"},
		{"{'f':{'type':'any'}}", "{'f':[1]}", "OK"},
		{"{'f':{}}", "{'f':null}", "OK"},
		/* a non-string type reads as any */
		{"{'f':{'type':5}}", "{'f':'x'}", "OK"},
	};

	run_validate_cases(cases, G_N_ELEMENTS(cases));
}

/* ---- constraints ------------------------------------------------------------------------ */

static void
test_constraints_func(void)
{
	static const ValidateCase cases[] = {
		/* numeric bounds, inclusive */
		{"{'p':{'type':'int','constraints':{'min':1,'max':65535}}}", "{'p':1}", "OK"},
		{"{'p':{'type':'int','constraints':{'min':1,'max':65535}}}", "{'p':65535}", "OK"},
		{"{'p':{'type':'int','constraints':{'min':1,'max':65535}}}", "{'p':0}",
		 "p: value 0 < min 1"},
		{"{'p':{'type':'int','constraints':{'min':1,'max':65535}}}", "{'p':70000}",
		 "p: value 70000 > max 65535"},
		/* %g with 6 significant digits */
		{"{'d':{'type':'double','constraints':{'max':1000000}}}", "{'d':1234567.5}",
		 "d: value 1.23457e+06 > max 1e+06"},
		{"{'d':{'type':'double','constraints':{'max':1.25}}}", "{'d':1.2500001}",
		 "d: value 1.25 > max 1.25"},
		{"{'d':{'type':'double','constraints':{'min':200}}}", "{'d':100.123456789}",
		 "d: value 100.123 < min 200"},
		{"{'d':{'type':'double','constraints':{'min':0.5}}}", "{'d':-0.25}",
		 "d: value -0.25 < min 0.5"},
		/* min is checked before max */
		{"{'d':{'type':'int','constraints':{'min':10,'max':5}}}", "{'d':7}",
		 "d: value 7 < min 10"},
		/* constraints apply by value kind, not by declared type */
		{"{'a':{'type':'any','constraints':{'min':5}}}", "{'a':3}", "a: value 3 < min 5"},
		{"{'a':{'type':'any','constraints':{'min':5}}}", "{'a':'abc'}", "OK"},
		{"{'a':{'constraints':{'maxLength':1}}}", "{'a':'ab'}", "a: string too long"},
		{"{'a':{'constraints':{'maxItems':1}}}", "{'a':[1,2]}", "a: array too long"},
		/* string length in UTF-16 code units */
		{"{'s':{'type':'string','constraints':{'minLength':2}}}", "{'s':'a'}",
		 "s: string too short"},
		{"{'s':{'type':'string','constraints':{'minLength':2}}}", "{'s':'ab'}", "OK"},
		{"{'s':{'type':'string','constraints':{'maxLength':3}}}", "{'s':'abcd'}",
		 "s: string too long"},
		{"{'s':{'type':'string','constraints':{'maxLength':2}}}",
		 "{'s':'\xc3\xa9\xc3\xa9'}", "OK"},
		{"{'s':{'type':'string','constraints':{'maxLength':2}}}",
		 "{'s':'\xf0\x9f\x98\x80'}", "OK"},
		{"{'s':{'type':'string','constraints':{'maxLength':1}}}",
		 "{'s':'\xf0\x9f\x98\x80'}", "s: string too long"},
		{"{'s':{'type':'string','constraints':{'minLength':3}}}",
		 "{'s':'\xf0\x9f\x98\x80'}", "s: string too short"},
		/* order: minLength, maxLength, pattern */
		{"{'s':{'type':'string','constraints':{'minLength':5,'maxLength':2}}}",
		 "{'s':'abc'}",
		 "s: string too short"},
		{"{'s':{'type':'string','constraints':{'maxLength':2,'pattern':'^x'}}}",
		 "{'s':'abcd'}", "s: string too long"},
		/* pattern: searched anywhere, PCRE syntax */
		{"{'s':{'type':'string','constraints':{'pattern':'^[a-z]+$'}}}", "{'s':'abc'}",
		 "OK"},
		{"{'s':{'type':'string','constraints':{'pattern':'^[a-z]+$'}}}", "{'s':'Abc'}",
		 "s: pattern mismatch"},
		{"{'s':{'type':'string','constraints':{'pattern':'b'}}}", "{'s':'abc'}", "OK"},
		{"{'s':{'type':'string','constraints':{'pattern':'\\\\d{3}'}}}", "{'s':'a123'}",
		 "OK"},
		{"{'s':{'type':'string','constraints':{'pattern':'\\\\d{3}'}}}", "{'s':'a12'}",
		 "s: pattern mismatch"},
		/* an invalid regex never matches */
		{"{'s':{'type':'string','constraints':{'pattern':'('}}}", "{'s':'('}",
		 "s: pattern mismatch"},
		{"{'s':{'type':'string','constraints':{'pattern':''}}}", "{'s':'x'}", "OK"},
		/* enum: only for type enum, deep equality */
		{"{'m':{'type':'enum','constraints':{'enum':['a','b']}}}", "{'m':'a'}", "OK"},
		{"{'m':{'type':'enum','constraints':{'enum':['a','b']}}}", "{'m':'c'}",
		 "m: invalid enum value"},
		{"{'m':{'type':'enum','constraints':{'enumValues':['a','b']}}}", "{'m':'c'}",
		 "m: invalid enum value"},
		{"{'m':{'type':'enum','constraints':{'enum':['a'],'enumValues':['b']}}}",
		 "{'m':'a'}", "m: invalid enum value"},
		{"{'m':{'type':'enum','constraints':{'enum':['a'],'enumValues':['b']}}}",
		 "{'m':'b'}", "OK"},
		{"{'m':{'type':'enum','constraints':{'enum':['a'],'enumValues':'b'}}}", "{'m':'z'}",
		 "OK"},
		{"{'m':{'type':'enum','constraints':{'enum':[]}}}", "{'m':'z'}", "OK"},
		{"{'m':{'type':'string','constraints':{'enumValues':['a']}}}", "{'m':'zzz'}", "OK"},
		{"{'m':{'type':'int','constraints':{'enum':[1,2]}}}", "{'m':3}", "OK"},
		{"{'m':{'type':'enum','constraints':{'enum':['a'],'maxLength':0}}}", "{'m':'a'}",
		 "m: string too long"},
		/* array length */
		{"{'l':{'type':'array','constraints':{'minItems':1}}}", "{'l':[]}",
		 "l: array too short"},
		{"{'l':{'type':'array','constraints':{'maxItems':2}}}", "{'l':[1,2,3]}",
		 "l: array too long"},
		{"{'l':{'type':'array','constraints':{'minItems':1,'maxItems':2}}}", "{'l':[1,2]}",
		 "OK"},
		/* coercions: min non-number -> 0, maxLength non-integral -> 0 */
		{"{'n':{'type':'int','constraints':{'min':'x'}}}", "{'n':-1}",
		 "n: value -1 < min 0"},
		{"{'s':{'type':'string','constraints':{'maxLength':2.5}}}", "{'s':'a'}",
		 "s: string too long"},
		{"{'s':{'type':'string','constraints':{'maxLength':2.5}}}", "{'s':''}", "OK"},
		/* constraints are read only inside "constraints" */
		{"{'n':{'type':'int','min':5,'max':6}}", "{'n':1}", "OK"},
		{"{'n':{'type':'int','constraints':5}}", "{'n':-100}", "OK"},
		{"{'m':{'type':'string','enum':['a']}}", "{'m':'zzz'}", "OK"},
		{"{'m':{'type':'int','enum':[1,2]}}", "{'m':7}", "OK"},
	};

	run_validate_cases(cases, G_N_ELEMENTS(cases));
}

/* ---- nesting ---------------------------------------------------------------------------- */

static void
test_nested_paths_func(void)
{
	static const char *schema_text =
		"{'dev':{'type':'object','fields':{"
		"  'host':{'type':'string','required':true},"
		"  'port':{'type':'int','constraints':{'max':100}},"
		"  'inner':{'type':'object','fields':{'x':{'type':'int','default':1}}}}},"
		" 'list':{'type':'array','items':{'type':'int','constraints':{'max':10}}},"
		" 'objs':{'type':'array','items':{'type':'object','fields':{"
		"  'port':{'type':'int','required':true},"
		"  'sub':{'type':'object','fields':{'q':{'type':'bool'}}}}}},"
		" 'deep':{'type':'object','fields':{'b':{'type':'object','fields':{"
		"  'c':{'type':'int'}}}}}}";
	static const struct {
		const char *config;
		const char *expected;
	} cases[] = {
		{"{'dev':{'host':'h'}}", "OK"},
		{"{'dev':{'host':'h','port':1000}}", "dev.port: value 1000 > max 100"},
		{"{'dev':{'host':'h','inner':{'x':'s'}}}", "dev.inner.x: expected integer"},
		{"{'dev':{'port':1}}", "dev.host: required field missing"},
		{"{'dev':{'host':null}}", "dev.host: expected string"},
		{"{'dev':{'host':'h'},'list':[1,2]}", "OK"},
		{"{'dev':{'host':'h'},'list':[1,20]}", "list[1]: value 20 > max 10"},
		{"{'dev':{'host':'h'},'list':[1,'x']}", "list[1]: expected integer"},
		{"{'dev':{'host':'h'},'list':5}", "list: expected array"},
		{"{'dev':{'host':'h'},'objs':[{'port':2}]}", "OK"},
		{"{'dev':{'host':'h'},'objs':[{'port':2},{}]}", "objs[1]: required field missing"},
		{"{'dev':{'host':'h'},'objs':[{'port':'x'}]}", "objs[0]: expected integer"},
		{"{'dev':{'host':'h'},'objs':[{'port':1,'sub':{'q':1}}]}",
		 "objs[0]: expected boolean"},
		{"{'dev':{'host':'h'},'objs':[7]}", "objs[0]: expected object"},
		{"{'dev':{'host':'h'},'deep':{'b':{'c':'x'}}}", "deep.b.c: expected integer"},
	};
	g_autoptr(StdiolinkSchema) schema = schema_new(schema_text);

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
		assert_valid_text(schema, cases[i].config, cases[i].expected);
}

static void
test_required_keys_func(void)
{
	static const ValidateCase cases[] = {
		/* requiredKeys not declared as children can never be satisfied */
		{"{'rk':{'type':'object','fields':{'a':{'type':'int'}},'requiredKeys':['must']}}",
		 "{'rk':{}}", "rk.must: required key missing"},
		{"{'rk':{'type':'object','fields':{'a':{'type':'int'}},'requiredKeys':['must']}}",
		 "{'rk':{'must':1}}", "rk.must: unknown configuration field"},
		/* declared and present */
		{"{'rk':{'type':'object','fields':{'a':{'type':'int'}},'requiredKeys':['a']}}",
		 "{'rk':{'a':1}}", "OK"},
		{"{'rk':{'type':'object','fields':{'a':{'type':'int'}},'requiredKeys':['a']}}",
		 "{'rk':{}}", "rk.a: required key missing"},
		/* required children are checked first */
		{"{'rk':{'type':'object','fields':{'a':{'type':'int','required':true},"
		 "'b':{'type':'int'}},'requiredKeys':['b']}}",
		 "{'rk':{}}", "rk.a: required field missing"},
		/* then requiredKeys, before the children are validated */
		{"{'rk':{'type':'object','fields':{'a':{'type':'int'},'b':{'type':'int'}},"
		 "'requiredKeys':['b']}}",
		 "{'rk':{'a':'x'}}", "rk.b: required key missing"},
		/* non-string entries dropped */
		{"{'rk':{'type':'object','fields':{'a':{'type':'int'}},'requiredKeys':[1,'a']}}",
		 "{'rk':{'a':1}}", "OK"},
		/* without declared children requiredKeys is never checked */
		{"{'o':{'type':'object','requiredKeys':['k']}}", "{'o':{}}", "OK"},
		{"{'o':{'type':'object','fields':{},'requiredKeys':['k']}}", "{'o':{'z':1}}", "OK"},
		/* a null value counts as present */
		{"{'rk':{'type':'object','fields':{'a':{'type':'any'}},'requiredKeys':['a']}}",
		 "{'rk':{'a':null}}", "OK"},
	};

	run_validate_cases(cases, G_N_ELEMENTS(cases));
}

/* ---- required, order, unknown fields ---------------------------------------------------- */

static void
test_required_and_order_func(void)
{
	static const ValidateCase cases[] = {
		{"{'r':{'type':'string','required':true}}", "{}",
		 "r: required field 'r' is missing"},
		{"{'r':{'type':'any','required':true}}", "{'r':null}", "OK"},
		/* every required check comes before any field validation */
		{"{'a':{'type':'string','constraints':{'minLength':1}},"
		 "'b':{'type':'int','required':true}}",
		 "{'a':''}", "b: required field 'b' is missing"},
		/* file order, not code-point order, decides which error comes first */
		{"{'b':{'type':'int'},'a':{'type':'int'},'B':{'type':'int'}}",
		 "{'a':'x','b':'y','B':'z'}", "b: expected integer"},
		{"{'z':{'type':'int','required':true},'a':{'type':'int','required':true}}", "{}",
		 "z: required field 'z' is missing"},
		/* a default satisfies a required field */
		{"{'n':{'type':'string','required':true,'default':'x'}}", "{}", "OK"},
		/* non-bool required -> false */
		{"{'n':{'type':'string','required':'yes'}}", "{}", "OK"},
	};

	run_validate_cases(cases, G_N_ELEMENTS(cases));
}

static void
test_unknown_fields_func(void)
{
	static const char *schema_text =
		"{'a':{'type':'int'},"
		" 'r':{'type':'int','default':1,'required':true},"
		" 'dev':{'type':'object','fields':{'inner':{'type':'object','fields':{"
		"  'x':{'type':'int'}}}}},"
		" 'objs':{'type':'array','items':{'type':'object','fields':{"
		"  'port':{'type':'int'},'sub':{'type':'object','fields':{'q':{'type':'int'}}}}}},"
		" 'plain':{'type':'array','items':{'type':'object'}},"
		" 'free':{'type':'object','additionalProperties':false},"
		" 'empty':{'type':'object','fields':{}},"
		" 'untyped':{'fields':{'k':{'type':'int'}}}}";
	static const struct {
		const char *config;
		const char *expected;
	} cases[] = {
		{"{'unk':1}", "unk: unknown configuration field"},
		/* config key order */
		{"{'zunk':1,'aunk':2}", "zunk: unknown configuration field"},
		{"{'aunk':1,'zunk':2}", "aunk: unknown configuration field"},
		{"{'dev':{'y':1}}", "dev.y: unknown configuration field"},
		{"{'dev':{'inner':{'y':1}}}", "dev.inner.y: unknown configuration field"},
		{"{'objs':[{'port':1},{'zz':1}]}", "objs[1].zz: unknown configuration field"},
		{"{'objs':[1,{'zz':1}]}", "objs[1].zz: unknown configuration field"},
		{"{'objs':[{'sub':{'w':1}}]}", "objs[0].sub.w: unknown configuration field"},
		/* objects without declared children accept any key */
		{"{'plain':[{'anything':1}]}", "OK"},
		{"{'free':{'anything':1}}", "OK"},
		{"{'empty':{'anything':1}}", "OK"},
		/* children only count for type object */
		{"{'untyped':{'other':1}}", "OK"},
		/* unknown-field rejection runs before validation */
		{"{'a':'x','unk':1}", "unk: unknown configuration field"},
	};
	g_autoptr(StdiolinkSchema) schema = schema_new(schema_text);

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
		assert_valid_text(schema, cases[i].config, cases[i].expected);
}

/* ---- default filling (5.1, 5.5) --------------------------------------------------------- */

static const char *defaults_schema =
	"{'a':{'type':'int','default':5},"
	" 'dev':{'type':'object','fields':{'host':{'type':'string','default':'h'},"
	"  'inner':{'type':'object','fields':{'x':{'type':'int','default':1}}}}},"
	" 'arr':{'type':'array','default':[{'a':1}],'items':{'type':'object','fields':{"
	"  'a':{'type':'int'},'b':{'type':'int','default':2}}}},"
	" 'nul':{'type':'any','default':null},"
	" 'o':{'type':'object','default':{'p':7,'q':1},'fields':{'p':{'type':'int','default':5},"
	"  'q':{'type':'int'},'r':{'type':'int','default':3}}},"
	" 'free':{'type':'object','default':{'k':'v'}}}";

static void
test_default_filling_func(void)
{
	g_autoptr(StdiolinkSchema) schema = schema_new(defaults_schema);

	/* nested objects created; array items never filled; null default = none */
	assert_filled(schema, "{}",
		      "{'a':5,'dev':{'host':'h','inner':{'x':1}},'arr':[{'a':1}],"
		      "'o':{'p':7,'q':1,'r':3},'free':{'k':'v'}}");
	/* given values are kept, nested objects filled around them */
	assert_filled(schema, "{'a':7,'dev':{'inner':{'x':9}},'arr':[{'a':3}],'o':{'q':2}}",
		      "{'a':7,'dev':{'host':'h','inner':{'x':9}},'arr':[{'a':3}],"
		      "'o':{'q':2,'p':5,'r':3},'free':{'k':'v'}}");
	/* a wrong-typed value of an object with children is replaced, null included */
	assert_filled(schema, "{'dev':'str','o':null}",
		      "{'a':5,'dev':{'host':'h','inner':{'x':1}},'arr':[{'a':1}],"
		      "'o':{'p':5,'r':3},'free':{'k':'v'}}");
	assert_valid_text(schema, "{'dev':'str','o':null}", "OK");
	/* an object without children is not replaced, so its type error stays */
	assert_valid_text(schema, "{'free':'str'}", "free: expected object");
	/* null stays null where no default filling applies */
	assert_filled(schema, "{'nul':null,'a':null}",
		      "{'nul':null,'a':null,'dev':{'host':'h','inner':{'x':1}},'arr':[{'a':1}],"
		      "'o':{'p':7,'q':1,'r':3},'free':{'k':'v'}}");
}

static void
test_filled_when_invalid_func(void)
{
	g_autoptr(StdiolinkSchema) schema = schema_new(defaults_schema);
	g_autoptr(JsonNode) config = parse("{'a':'bad','unk':{'z':1}}");
	g_autofree char *before = node_text(config);
	g_autoptr(StdiolinkValidation) v =
		stdiolink_schema_validate(schema, json_node_get_object(config));
	g_autofree char *after = node_text(config);
	g_autofree char *filled = NULL;
	g_autofree char *expected = canonical("{'a':'bad','unk':{'z':1},'dev':{'host':'h',"
					      "'inner':{'x':1}},'arr':[{'a':1}],"
					      "'o':{'p':7,'q':1,'r':3},'free':{'k':'v'}}");

	g_assert_false(v->valid);
	g_assert_cmpstr(v->error_field, ==, "unk");
	g_assert_cmpstr(v->error_message, ==, "unknown configuration field");
	filled = stdiolink_json_object_to_string(v->filled, STDIOLINK_JSON_COMPACT);
	g_assert_cmpstr(filled, ==, expected);

	/* the input is never modified, and filled shares nothing with it */
	g_assert_cmpstr(before, ==, after);
	json_object_set_int_member(v->filled, "a", 1);
	json_object_set_int_member(json_object_get_object_member(v->filled, "unk"), "y", 2);
	g_free(after);
	after = node_text(config);
	g_assert_cmpstr(before, ==, after);
}

static void
test_spec_example_func(void)
{
	g_autoptr(StdiolinkSchema) schema =
		schema_new("{'device':{'type':'object','fields':{'host':{'type':'string',"
			   "'required':true}}}}");

	/* an optional object with a required child and no default is effectively required */
	assert_valid_text(schema, "{}", "device.host: required field missing");
	assert_valid_text(schema, "{'device':{'host':'x','port':1}}",
			  "device.port: unknown configuration field");
	assert_valid_text(schema, "{'device':{'host':'x'}}", "OK");
}

static void
test_merge_func(void)
{
	g_autoptr(StdiolinkSchema) schema = schema_new(
		"{'port':{'type':'int','required':true},'server':{'type':'object','fields':{"
		"'host':{'type':'string','default':'0.0.0.0'},'port':{'type':'int'}}},"
		"'tags':{'type':'array'}}");
	g_autoptr(JsonNode) file = parse("{'port':1,'server':{'host':'h','port':2},'tags':[1,2]}");
	g_autoptr(JsonNode) over = parse("{'server':{'port':3},'tags':['x']}");
	g_autoptr(StdiolinkValidation) v = stdiolink_schema_merge_and_validate(
		schema, json_node_get_object(file), json_node_get_object(over));
	g_autofree char *filled =
		stdiolink_json_object_to_string(v->filled, STDIOLINK_JSON_COMPACT);
	g_autofree char *expected = canonical("{'port':1,'server':{'host':'h','port':3},"
					      "'tags':['x']}");
	g_autoptr(StdiolinkValidation) none =
		stdiolink_schema_merge_and_validate(schema, NULL, NULL);
	g_autofree char *text = stdiolink_validation_to_string(none);

	/* objects merge key by key; arrays replace */
	g_assert_true(v->valid);
	g_assert_cmpstr(filled, ==, expected);
	g_assert_cmpstr(text, ==, "port: required field 'port' is missing");
}

/* ---- strict parse (2.5) ----------------------------------------------------------------- */

static void
test_parse_errors_func(void)
{
	static const struct {
		const char *schema;
		const char *message;
	} cases[] = {
		{"{'a':1}", "field descriptor for \"a\" must be a JSON object"},
		{"{'a':null}", "field descriptor for \"a\" must be a JSON object"},
		{"{'a':[]}", "field descriptor for \"a\" must be a JSON object"},
		{"{'a':{'type':'Int'}}", "unknown field type \"Int\" for field \"a\""},
		{"{'a':{'type':''}}", "unknown field type \"\" for field \"a\""},
		{"{'a':{'type':'object','fields':[]}}",
		 "\"fields\" for field \"a\" must be a JSON object"},
		{"{'a':{'type':'object','fields':null}}",
		 "\"fields\" for field \"a\" must be a JSON object"},
		{"{'a':{'type':'array','items':[]}}",
		 "\"items\" for field \"a\" must be a JSON object"},
		{"{'a':{'type':'array','items':'int'}}",
		 "\"items\" for field \"a\" must be a JSON object"},
		{"{'a':{'type':'object','fields':{'b':{'type':'zz'}}}}",
		 "unknown field type \"zz\" for field \"a.b\""},
		{"{'a':{'fields':{'b':3}}}", "field descriptor for \"a.b\" must be a JSON object"},
		{"{'radars':{'type':'array','items':{'type':'object','fields':{"
		 "'host':{'type':'x'}}}}}",
		 "unknown field type \"x\" for field \"radars.items.host\""},
		{"{'a':{'type':'array','items':{'type':'array','items':5}}}",
		 "\"items\" for field \"a.items\" must be a JSON object"},
		{"{'a':{'type':'array','items':{'type':'nope'}}}",
		 "unknown field type \"nope\" for field \"a.items\""},
		/* first error in file order, depth first */
		{"{'b':{'type':'bad1'},'a':{'type':'bad2'}}",
		 "unknown field type \"bad1\" for field \"b\""},
		{"{'a':{'fields':{'x':{'type':'bad1'}}},'b':{'type':'bad2'}}",
		 "unknown field type \"bad1\" for field \"a.x\""},
		/* within one descriptor: type, then fields, then items */
		{"{'a':{'type':'q','fields':1}}", "unknown field type \"q\" for field \"a\""},
		{"{'a':{'fields':1,'items':1}}",
		 "\"fields\" for field \"a\" must be a JSON object"},
		{"{'a':{'items':1,'fields':{'b':{'type':'q'}}}}",
		 "unknown field type \"q\" for field \"a.b\""},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(JsonNode) root = parse(cases[i].schema);
		g_autoptr(GError) error = NULL;
		g_autoptr(StdiolinkSchema) schema =
			stdiolink_schema_new_from_json(json_node_get_object(root), &error);

		g_assert_null(schema);
		g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST);
		g_assert_cmpstr(error->message, ==, cases[i].message);
	}
}

static void
test_parse_empty_func(void)
{
	g_autoptr(StdiolinkSchema) schema = schema_new("{}");
	g_auto(GStrv) required = stdiolink_schema_get_required_fields(schema);
	g_autoptr(JsonNode) fields = stdiolink_schema_to_json(schema);
	g_autofree char *text = node_text(fields);

	g_assert_cmpuint(stdiolink_schema_get_fields(schema)->len, ==, 0);
	g_assert_cmpuint(g_strv_length(required), ==, 0);
	g_assert_cmpstr(text, ==, "[]");
	assert_valid_text(schema, "{}", "OK");
	assert_valid_text(schema, "{'x':1}", "x: unknown configuration field");
}

static void
write_file(const char *dir, const char *name, const char *contents, char **path_out)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autoptr(GError) error = NULL;

	g_file_set_contents(path, contents, -1, &error);
	g_assert_no_error(error);
	*path_out = g_steal_pointer(&path);
}

static void
test_from_file_func(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("test-schema-XXXXXX", &error);
	g_autofree char *missing = NULL;
	g_autofree char *bad_json = NULL;
	g_autofree char *array = NULL;
	g_autofree char *bad_type = NULL;
	g_autofree char *good = NULL;
	g_autofree char *expected = NULL;
	g_autoptr(StdiolinkSchema) schema = NULL;
	StdiolinkFieldMeta *first;

	g_assert_no_error(error);
	missing = g_build_filename(dir, "nope.json", NULL);
	write_file(dir, "bad.json", "{\"a\":", &bad_json);
	write_file(dir, "array.json", "[1]", &array);
	write_file(dir, "type.json", "{\"a\":{\"type\":\"zz\"}}", &bad_type);
	write_file(dir, "good.json", "{\"b\":{\"type\":\"int\"},\"a\":{\"type\":\"string\"}}",
		   &good);

	schema = stdiolink_schema_new_from_file(missing, &error);
	g_assert_null(schema);
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INVALID_DATA);
	expected = g_strdup_printf("cannot open config schema file: %s", missing);
	g_assert_cmpstr(error->message, ==, expected);
	g_clear_error(&error);

	schema = stdiolink_schema_new_from_file(bad_json, &error);
	g_assert_null(schema);
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INVALID_DATA);
	g_assert_true(g_str_has_prefix(error->message, "config.schema.json parse error: "));
	g_assert_cmpuint(strlen(error->message), >, strlen("config.schema.json parse error: "));
	g_clear_error(&error);

	schema = stdiolink_schema_new_from_file(array, &error);
	g_assert_null(schema);
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INVALID_DATA);
	g_assert_cmpstr(error->message, ==, "config.schema.json must be a JSON object");
	g_clear_error(&error);

	schema = stdiolink_schema_new_from_file(bad_type, &error);
	g_assert_null(schema);
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INVALID_DATA);
	g_assert_cmpstr(error->message, ==, "unknown field type \"zz\" for field \"a\"");
	g_clear_error(&error);

	schema = stdiolink_schema_new_from_file(good, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(stdiolink_schema_get_fields(schema)->len, ==, 2);
	first = stdiolink_schema_get_fields(schema)->pdata[0];
	g_assert_cmpstr(stdiolink_field_meta_get_name(first), ==, "b");

	g_assert_cmpint(g_remove(missing), ==, -1);
	g_assert_cmpint(g_remove(bad_json), ==, 0);
	g_assert_cmpint(g_remove(array), ==, 0);
	g_assert_cmpint(g_remove(bad_type), ==, 0);
	g_assert_cmpint(g_remove(good), ==, 0);
	g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/* ---- encoding B ------------------------------------------------------------------------- */

static void
assert_schema_json(const char *schema_text, const char *expected)
{
	g_autoptr(StdiolinkSchema) schema = schema_new(schema_text);
	g_autoptr(JsonNode) fields = stdiolink_schema_to_json(schema);
	g_autofree char *text = node_text(fields);
	g_autofree char *want = canonical(expected);

	g_assert_cmpstr(text, ==, want);
}

static void
test_encoding_a_to_b_func(void)
{
	/* the coercions of 2.2 / 2.3; ui, top-level enum and top-level min dropped */
	assert_schema_json("{'f':{'type':5,'required':'yes','description':7,'ui':{'widget':'x'},"
			   "'enum':['q'],'min':3,'constraints':{'min':'x','maxLength':2.5,"
			   "'enum':['a'],'enumValues':['b']},'requiredKeys':['k',1],"
			   "'additionalProperties':false}}",
			   "[{'additionalProperties':false,'enum':['b'],'maxLength':0,'min':0,"
			   "'name':'f','requiredKeys':['k'],'type':'any'}]");
	/* every constraint, aliases canonicalized, default null dropped */
	assert_schema_json("{'n':{'type':'integer','required':true,'default':null,'constraints':{"
			   "'min':1.5,'max':10,'minLength':1,'maxLength':9,'pattern':'^a',"
			   "'format':'ip','minItems':0,'maxItems':3,'unknown':1}},"
			   "'d':{'type':'number','default':0.5,'description':'r'},"
			   "'b':{'type':'boolean','default':false,'additionalProperties':'no'}}",
			   "[{'name':'n','type':'int','required':true,'min':1.5,'max':10,"
			   "'minLength':1,'maxLength':9,'pattern':'^a','format':'ip','minItems':0,"
			   "'maxItems':3},{'name':'d','type':'double','default':0.5,"
			   "'description':'r'},{'name':'b','type':'bool','default':false}]");
	/* schema.md 3.2 */
	assert_schema_json("{'radars':{'type':'array','required':true,'description':'devices',"
			   "'constraints':{'minItems':1},'items':{'type':'object','fields':{"
			   "'host':{'type':'string','required':true},"
			   "'id':{'type':'string','required':true},"
			   "'port':{'type':'int','required':true,'constraints':{'min':1,"
			   "'max':65535}}}}}}",
			   "[{'description':'devices','items':{'fields':["
			   "{'name':'host','required':true,'type':'string'},"
			   "{'name':'id','required':true,'type':'string'},"
			   "{'max':65535,'min':1,'name':'port','required':true,'type':'int'}],"
			   "'name':'radars','type':'object'},"
			   "'minItems':1,'name':'radars','required':true,'type':'array'}]");
	/* child order is file order */
	assert_schema_json("{'o':{'type':'object','fields':{'z':{},'a':{},'B':{}}}}",
			   "[{'name':'o','type':'object','fields':[{'name':'z','type':'any'},"
			   "{'name':'a','type':'any'},{'name':'B','type':'any'}]}]");
}

static void
assert_b_roundtrip(const char *input, const char *expected)
{
	g_autoptr(JsonNode) node = parse(input);
	g_autoptr(StdiolinkFieldMeta) meta =
		stdiolink_field_meta_new_from_json(json_node_get_object(node));
	g_autoptr(JsonNode) out = stdiolink_field_meta_to_json(meta);
	g_autofree char *text = node_text(out);
	g_autofree char *want = canonical(expected);

	g_assert_cmpstr(text, ==, want);
}

static void
test_encoding_b_func(void)
{
	static const char *full =
		"{'name':'cfg','type':'object','required':true,'default':{'a':[1,{'b':null}]},"
		"'description':'d','min':-1.5,'max':2,'minLength':1,'maxLength':2,"
		"'pattern':'x+','format':'host','enum':['a',1,{'k':[true]}],'minItems':0,"
		"'maxItems':4,'ui':{'widget':'select','group':'g','order':3,'placeholder':'p',"
		"'advanced':true,'readonly':true,'visibleIf':'mode == \\u0027fast\\u0027',"
		"'unit':'ms','step':0.5},'fields':[{'name':'z','type':'int'},"
		"{'name':'a','type':'string','ui':{'order':-2}}],"
		"'items':{'name':'cfg','type':'double'},'requiredKeys':['z','a'],"
		"'additionalProperties':false}";

	/* everything survives a round trip, child order included */
	assert_b_roundtrip(full, full);
	/* lenient input */
	assert_b_roundtrip("{}", "{'type':'any'}");
	assert_b_roundtrip("{'name':'x','type':'weird'}", "{'name':'x','type':'any'}");
	assert_b_roundtrip("{'name':5,'type':'Int','required':1,'default':null,'description':[]}",
			   "{'type':'any'}");
	assert_b_roundtrip("{'type':'int','min':'x','maxLength':2.5,'minItems':'3','enum':5,"
			   "'enumValues':['a'],'pattern':7}",
			   "{'type':'int','min':0,'maxLength':0,'minItems':0}");
	assert_b_roundtrip("{'type':'object','fields':{'a':{}},'requiredKeys':'a',"
			   "'additionalProperties':'no'}",
			   "{'type':'object'}");
	assert_b_roundtrip("{'type':'object','fields':[1,{'name':'a'}]}",
			   "{'type':'object','fields':[{'type':'any'},{'name':'a','type':'any'}]}");
	assert_b_roundtrip("{'type':'array','items':5}", "{'type':'array','items':{'type':'any'}}");
	assert_b_roundtrip("{'type':'array','items':{'type':'integer'}}",
			   "{'type':'array','items':{'type':'int'}}");
	/* ui: only set hints are emitted; coercions; empty hint dropped */
	assert_b_roundtrip("{'type':'string','ui':{'order':1.5,'step':'x','advanced':'yes',"
			   "'widget':'','unknown':1}}",
			   "{'type':'string'}");
	assert_b_roundtrip("{'type':'string','ui':5}", "{'type':'string'}");
	assert_b_roundtrip("{'type':'string','ui':{'order':2.0,'step':-1,'readonly':false}}",
			   "{'type':'string','ui':{'order':2,'step':-1}}");
}

static void
test_field_meta_accessors_func(void)
{
	g_autoptr(JsonNode) node = parse(
		"{'name':'n','type':'enum','required':true,'default':'a','description':'d',"
		"'enum':['a','b'],'min':1,'maxLength':4,'pattern':'^a','format':'f',"
		"'fields':[{'name':'c'}],'items':{'type':'bool'},'requiredKeys':['c']}");
	g_autoptr(StdiolinkFieldMeta) meta =
		stdiolink_field_meta_new_from_json(json_node_get_object(node));
	g_autoptr(JsonNode) list = parse("[{'name':'a','type':'int'},{'name':'b'}]");
	g_autoptr(GPtrArray) fields = stdiolink_fields_new_from_json(list);
	g_autoptr(GPtrArray) none = stdiolink_fields_new_from_json(NULL);
	g_autoptr(JsonNode) fields_json = stdiolink_fields_to_json(fields);
	g_autofree char *fields_text = node_text(fields_json);
	double number = 0;
	int length = 0;

	g_assert_cmpstr(stdiolink_field_meta_get_name(meta), ==, "n");
	g_assert_cmpint(stdiolink_field_meta_get_field_type(meta), ==, STDIOLINK_FIELD_ENUM);
	g_assert_true(stdiolink_field_meta_get_required(meta));
	g_assert_cmpstr(json_node_get_string(stdiolink_field_meta_get_default(meta)), ==, "a");
	g_assert_cmpstr(stdiolink_field_meta_get_description(meta), ==, "d");
	g_assert_true(stdiolink_field_meta_get_min(meta, &number));
	g_assert_cmpfloat(number, ==, 1);
	g_assert_false(stdiolink_field_meta_get_max(meta, &number));
	g_assert_false(stdiolink_field_meta_get_min_length(meta, &length));
	g_assert_true(stdiolink_field_meta_get_max_length(meta, &length));
	g_assert_cmpint(length, ==, 4);
	g_assert_false(stdiolink_field_meta_get_min_items(meta, NULL));
	g_assert_false(stdiolink_field_meta_get_max_items(meta, NULL));
	g_assert_cmpstr(stdiolink_field_meta_get_pattern(meta), ==, "^a");
	g_assert_cmpstr(stdiolink_field_meta_get_format(meta), ==, "f");
	g_assert_cmpuint(stdiolink_field_meta_get_enum_values(meta)->len, ==, 2);
	g_assert_cmpuint(stdiolink_field_meta_get_fields(meta)->len, ==, 1);
	g_assert_cmpint(stdiolink_field_meta_get_field_type(stdiolink_field_meta_get_items(meta)),
			==, STDIOLINK_FIELD_BOOL);
	g_assert_cmpstr(stdiolink_field_meta_get_required_keys(meta)[0], ==, "c");
	g_assert_null(stdiolink_field_meta_get_required_keys(meta)[1]);
	g_assert_true(stdiolink_field_meta_get_additional_properties(meta));

	/* ref / unref */
	g_assert_true(stdiolink_field_meta_ref(meta) == meta);
	stdiolink_field_meta_unref(meta);

	g_assert_cmpuint(fields->len, ==, 2);
	g_assert_cmpuint(none->len, ==, 0);
	g_assert_cmpstr(fields_text, ==, "[{\"name\":\"a\",\"type\":\"int\"},"
					 "{\"name\":\"b\",\"type\":\"any\"}]");
}

static void
test_ui_hint_func(void)
{
	g_autoptr(JsonNode) hint = parse("{'widget':'w','order':0,'step':0,'advanced':false}");
	g_autoptr(JsonNode) empty = parse("{'order':0}");
	g_autoptr(JsonObject) normalized = stdiolink_ui_hint_normalize(hint);
	g_autoptr(JsonObject) nothing = stdiolink_ui_hint_normalize(empty);
	g_autofree char *text = stdiolink_json_object_to_string(normalized, STDIOLINK_JSON_COMPACT);

	g_assert_cmpstr(text, ==, "{\"widget\":\"w\"}");
	g_assert_null(nothing);
	g_assert_null(stdiolink_ui_hint_normalize(NULL));
}

/* ---- warnings, generate-defaults, required/optional ------------------------------------- */

static void
test_warnings_func(void)
{
	g_autoptr(StdiolinkSchema) schema = schema_new(
		"{'mode':{'type':'string','enum':['a','b']},"
		"'ok':{'type':'enum','constraints':{'enum':['a']}},"
		"'list':{'type':'array','items':{'type':'object','fields':{"
		"'kind':{'type':'string','enum':[]}}}}}");
	g_autoptr(StdiolinkSchema) clean = schema_new("{'a':{'type':'int'}}");
	const char *const *warnings = stdiolink_schema_get_warnings(schema);

	g_assert_cmpuint(g_strv_length((GStrv)warnings), ==, 2);
	g_assert_cmpstr(warnings[0], ==,
			"field \"mode\": top-level \"enum\" is ignored; put it in \"constraints\" "
			"with type \"enum\"");
	g_assert_cmpstr(warnings[1], ==,
			"field \"list.items.kind\": top-level \"enum\" is ignored; put it in "
			"\"constraints\" with type \"enum\"");
	g_assert_nonnull(stdiolink_schema_get_warnings(clean));
	g_assert_null(stdiolink_schema_get_warnings(clean)[0]);

	/* ignored for validity */
	assert_valid_text(schema, "{'mode':'zzz'}", "OK");
	assert_valid_text(schema, "{'ok':'zzz'}", "ok: invalid enum value");
}

static void
test_generate_defaults_func(void)
{
	g_autoptr(StdiolinkSchema) schema = schema_new(
		"{'z':{'type':'int','required':true,'default':1},"
		"'dev':{'type':'object','fields':{'x':{'type':'int','default':2}}},"
		"'o':{'type':'object','default':{'p':5},'fields':{'q':{'type':'int','default':3}}},"
		"'nul':{'type':'any','default':null},"
		"'a':{'type':'string','required':true},"
		"'arr':{'type':'array','default':[]}}");
	g_autoptr(JsonObject) defaults = stdiolink_schema_generate_defaults(schema);
	g_autofree char *text = stdiolink_json_object_to_string(defaults, STDIOLINK_JSON_COMPACT);
	g_autofree char *expected = canonical("{'z':1,'o':{'p':5},'arr':[]}");
	g_auto(GStrv) required = stdiolink_schema_get_required_fields(schema);
	g_auto(GStrv) optional = stdiolink_schema_get_optional_fields(schema);
	g_autofree char *required_text = g_strjoinv(",", required);
	g_autofree char *optional_text = g_strjoinv(",", optional);

	/* top level only, defaults as is, null default = none */
	g_assert_cmpstr(text, ==, expected);
	g_assert_cmpstr(required_text, ==, "z,a");
	g_assert_cmpstr(optional_text, ==, "dev,o,nul,arr");
	g_assert_nonnull(stdiolink_schema_find_field(schema, "o"));
	g_assert_null(stdiolink_schema_find_field(schema, "x"));
}

/* ---- driver params (5.6) ---------------------------------------------------------------- */

static void
assert_params(GPtrArray *fields, const char *data, const char *expected, const char *filled)
{
	g_autoptr(JsonNode) node = data != NULL ? parse(data) : NULL;
	g_autoptr(StdiolinkValidation) v = stdiolink_fields_validate_params(fields, node);
	g_autofree char *text = stdiolink_validation_to_string(v);
	g_autofree char *filled_text = NULL;
	g_autofree char *want = NULL;

	g_assert_cmpstr(text, ==, expected);
	if (filled != NULL) {
		filled_text = stdiolink_json_object_to_string(v->filled, STDIOLINK_JSON_COMPACT);
		want = canonical(filled);
		g_assert_cmpstr(filled_text, ==, want);
	}
}

static void
test_params_func(void)
{
	g_autoptr(JsonNode) params = parse(
		"[{'name':'a','type':'int','required':true},"
		"{'name':'b','type':'string','default':'x','minLength':1},"
		"{'name':'o','type':'object','fields':[{'name':'p','type':'int','default':1}],"
		"'requiredKeys':['p']},"
		"{'name':'e','type':'enum','enum':['on','off']},"
		"{'name':'l','type':'array','items':{'type':'int'}}]");
	g_autoptr(GPtrArray) fields = stdiolink_fields_new_from_json(params);
	g_autoptr(JsonNode) bool_data = parse("true");
	g_autoptr(StdiolinkValidation) bad = NULL;

	assert_params(fields, NULL, "a: required field missing", "{'b':'x','o':{'p':1}}");
	assert_params(fields, "null", "a: required field missing", NULL);
	assert_params(fields, "'str'", "params must be an object", "{'b':'x','o':{'p':1}}");
	assert_params(fields, "[1]", "params must be an object", NULL);
	assert_params(fields, "5", "params must be an object", NULL);
	/* unknown keys allowed; filled data for the handler */
	assert_params(fields, "{'a':1,'extra':true}", "OK",
		      "{'a':1,'extra':true,'b':'x','o':{'p':1}}");
	assert_params(fields, "{'a':'x'}", "a: expected integer", NULL);
	assert_params(fields, "{'a':1,'b':''}", "b: string too short", NULL);
	assert_params(fields, "{'a':1,'e':'mid'}", "e: invalid enum value", NULL);
	assert_params(fields, "{'a':1,'o':{'p':'q'}}", "o.p: expected integer", NULL);
	assert_params(fields, "{'a':1,'l':[1,2.5]}", "l[1]: expected integer, got decimal", NULL);
	assert_params(fields, "{'a':1,'o':'x'}", "OK", "{'a':1,'o':{'p':1},'b':'x'}");

	/* a command without params */
	assert_params(NULL, "{'x':1}", "OK", "{'x':1}");

	/* the empty field of a data error */
	bad = stdiolink_fields_validate_params(fields, bool_data);
	g_assert_false(bad->valid);
	g_assert_cmpstr(bad->error_field, ==, "");
	g_assert_cmpstr(bad->error_message, ==, "params must be an object");
}

/* ---- thread safety ---------------------------------------------------------------------- */

static gpointer
validate_thread(gpointer data)
{
	StdiolinkSchema *schema = data;

	for (guint i = 0; i < 300; i++) {
		g_autoptr(JsonObject) config = json_object_new();
		g_autoptr(StdiolinkValidation) v = NULL;
		g_autoptr(JsonObject) defaults = stdiolink_schema_generate_defaults(schema);

		json_object_set_int_member(config, "a", i);
		v = stdiolink_schema_validate(schema, config);
		if (!v->valid || json_object_get_size(defaults) != 4)
			return GINT_TO_POINTER(1);
	}
	return NULL;
}

static void
test_shared_between_threads_func(void)
{
	g_autoptr(StdiolinkSchema) schema = schema_new(defaults_schema);
	GThread *threads[4];

	for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
		threads[i] =
			g_thread_new("validate", validate_thread, stdiolink_schema_ref(schema));
	for (guint i = 0; i < G_N_ELEMENTS(threads); i++) {
		g_assert_null(g_thread_join(threads[i]));
		stdiolink_schema_unref(schema);
	}
}

/* ---- validation result ------------------------------------------------------------------ */

static void
test_result_text_func(void)
{
	StdiolinkValidation ok = {TRUE, (char *)"", NULL, NULL};
	StdiolinkValidation with_field = {FALSE, (char *)"a.b", (char *)"expected string", NULL};
	StdiolinkValidation no_field = {FALSE, (char *)"", (char *)"params must be an object",
					NULL};
	g_autofree char *t1 = stdiolink_validation_to_string(&ok);
	g_autofree char *t2 = stdiolink_validation_to_string(&with_field);
	g_autofree char *t3 = stdiolink_validation_to_string(&no_field);

	g_assert_cmpstr(t1, ==, "OK");
	g_assert_cmpstr(t2, ==, "a.b: expected string");
	g_assert_cmpstr(t3, ==, "params must be an object");
	stdiolink_validation_free(NULL);
}

/* ---- real schema files ------------------------------------------------------------------ */

static char *
fixture_path(const char *first, ...)
{
	const char *root = g_getenv("STDIOLINK_FIXTURES");
	g_autoptr(GPtrArray) parts = g_ptr_array_new();
	va_list args;

	g_assert_nonnull(root);
	g_ptr_array_add(parts, (gpointer)root);
	va_start(args, first);
	for (const char *p = first; p != NULL; p = va_arg(args, const char *))
		g_ptr_array_add(parts, (gpointer)p);
	va_end(args);
	g_ptr_array_add(parts, NULL);
	return g_build_filenamev((char **)parts->pdata);
}

static StdiolinkSchema *
demo_schema(const char *service)
{
	g_autofree char *path = fixture_path("original-data-roots", "demo_config_demo", "services",
					     service, "config.schema.json", NULL);
	g_autoptr(GError) error = NULL;
	StdiolinkSchema *schema = stdiolink_schema_new_from_file(path, &error);

	g_assert_no_error(error);
	return schema;
}

static guint
load_services_of(const char *root_dir)
{
	g_autofree char *services = g_build_filename(root_dir, "services", NULL);
	g_autoptr(GDir) dir = g_dir_open(services, 0, NULL);
	const char *name;
	guint count = 0;

	if (dir == NULL)
		return 0;
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path =
			g_build_filename(services, name, "config.schema.json", NULL);
		g_autoptr(GError) error = NULL;
		g_autoptr(StdiolinkSchema) schema = NULL;

		if (!g_file_test(path, G_FILE_TEST_EXISTS))
			continue;
		schema = stdiolink_schema_new_from_file(path, &error);
		g_test_message("%s: %s", path, error != NULL ? error->message : "ok");
		g_assert_no_error(error);
		count++;
	}
	return count;
}

static void
test_fixture_schemas_func(void)
{
	g_autofree char *roots = fixture_path("original-data-roots", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GDir) dir = g_dir_open(roots, 0, &error);
	const char *name;
	guint count = 0;

	g_assert_no_error(error);
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *root = g_build_filename(roots, name, NULL);

		count += load_services_of(root);
	}
	g_assert_cmpuint(count, ==, 20);
}

static void
test_fixture_field_counts_func(void)
{
	static const struct {
		const char *service;
		guint fields;
		guint required;
	} services[] = {
		{"all_in_one", 0, 0},     {"array_and_enum", 4, 1}, {"basic_types", 5, 2},
		{"config_file_merge", 7, 2}, {"constraints", 4, 2}, {"nested_object", 2, 0},
		{"readonly_and_errors", 1, 0},
	};

	for (guint i = 0; i < G_N_ELEMENTS(services); i++) {
		g_autoptr(StdiolinkSchema) schema = demo_schema(services[i].service);
		g_auto(GStrv) required = stdiolink_schema_get_required_fields(schema);

		g_assert_cmpuint(stdiolink_schema_get_fields(schema)->len, ==, services[i].fields);
		g_assert_cmpuint(g_strv_length(required), ==, services[i].required);
		g_assert_null(stdiolink_schema_get_warnings(schema)[0]);
	}
}

static void
test_fixture_constraints_func(void)
{
	g_autoptr(StdiolinkSchema) schema = demo_schema("constraints");

	assert_valid_text(schema, "{'port':8080,'name':'svc_1'}", "OK");
	assert_filled(schema, "{'port':8080,'name':'svc_1'}",
		      "{'port':8080,'name':'svc_1','ratio':0.5,'tags':[]}");
	assert_valid_text(schema, "{'port':70000,'name':'a'}", "port: value 70000 > max 65535");
	assert_valid_text(schema, "{'port':0,'name':'a'}", "port: value 0 < min 1");
	assert_valid_text(schema, "{'port':80,'name':'1abc'}", "name: pattern mismatch");
	assert_valid_text(schema, "{'port':80,'name':''}", "name: string too short");
	assert_valid_text(schema, "{'port':80,'name':'a23456789012345678901234567890123'}",
			  "name: string too long");
	assert_valid_text(schema, "{'port':80}", "name: required field 'name' is missing");
	assert_valid_text(schema, "{'name':''}", "port: required field 'port' is missing");
	assert_valid_text(schema, "{'port':80,'name':'a','ratio':1.5}",
			  "ratio: value 1.5 > max 1");
	assert_valid_text(schema, "{'port':80,'name':'a','tags':[1,2,3,4,5,6,7,8,9,10,11]}",
			  "tags: array too long");
	assert_valid_text(schema, "{'port':80,'name':'a','tags':['x',2]}",
			  "tags[1]: expected string");
	assert_valid_text(schema, "{'port':80.5,'name':'a'}",
			  "port: expected integer, got decimal");
}

static void
test_fixture_array_and_enum_func(void)
{
	g_autoptr(StdiolinkSchema) schema = demo_schema("array_and_enum");
	g_autoptr(JsonNode) fields = stdiolink_schema_to_json(schema);
	g_autofree char *text = node_text(fields);
	g_autofree char *expected = canonical(
		"[{'default':'normal','description':'Run mode',"
		"'enum':['fast','normal','slow','debug'],'name':'mode','type':'string'},"
		"{'default':[],'description':'Tags list','items':{'name':'tags','type':'string'},"
		"'maxItems':10,'name':'tags','type':'array'},"
		"{'default':[80],'description':'Listen ports','items':{'max':65535,'min':1,"
		"'name':'ports','type':'int'},'name':'ports','type':'array'},"
		"{'description':'Priority level','name':'level','required':true,'type':'int'}]");

	g_assert_cmpstr(text, ==, expected);
	assert_filled(schema, "{'level':1}",
		      "{'level':1,'mode':'normal','tags':[],'ports':[80]}");
	assert_valid_text(schema, "{}", "level: required field 'level' is missing");
	assert_valid_text(schema, "{'level':1,'mode':'zzz'}", "OK");
	assert_valid_text(schema, "{'level':1,'ports':[80,0]}", "ports[1]: value 0 < min 1");
	assert_valid_text(schema, "{'level':1,'tags':[1]}", "tags[0]: expected string");
	assert_valid_text(schema, "{'level':1.5}", "level: expected integer, got decimal");
}

static void
test_fixture_nested_object_func(void)
{
	g_autoptr(StdiolinkSchema) schema = demo_schema("nested_object");

	assert_valid_text(schema, "{}", "server.port: required field missing");
	assert_valid_text(schema, "{'server':{'port':80}}",
			  "database.name: required field missing");
	assert_valid_text(schema, "{'server':{'port':80,'x':1},'database':{'name':'d'}}",
			  "server.x: unknown configuration field");
	assert_valid_text(schema, "{'server':{'port':'80'},'database':{'name':'d'}}",
			  "server.port: expected integer");
	assert_filled(schema, "{'server':{'port':80},'database':{'name':'d'}}",
		      "{'server':{'port':80,'host':'localhost','ssl':false},"
		      "'database':{'host':'127.0.0.1','port':5432,'name':'d'}}");
}

static void
test_fixture_basic_types_func(void)
{
	g_autoptr(StdiolinkSchema) schema = demo_schema("basic_types");
	g_autoptr(JsonObject) defaults = stdiolink_schema_generate_defaults(schema);
	g_autofree char *text = stdiolink_json_object_to_string(defaults, STDIOLINK_JSON_COMPACT);
	g_auto(GStrv) required = stdiolink_schema_get_required_fields(schema);
	g_auto(GStrv) optional = stdiolink_schema_get_optional_fields(schema);
	g_autofree char *required_text = g_strjoinv(",", required);
	g_autofree char *optional_text = g_strjoinv(",", optional);

	g_assert_cmpstr(text, ==, "{\"debug\":false,\"ratio\":0.5}");
	g_assert_cmpstr(required_text, ==, "name,port");
	g_assert_cmpstr(optional_text, ==, "ratio,debug,metadata");
	assert_valid_text(schema, "{'name':'n','port':1,'metadata':{'any':[null]}}", "OK");
	assert_valid_text(schema, "{'name':'n','port':1,'debug':'no'}", "debug: expected boolean");
	assert_valid_text(schema, "{'name':'n','port':1,'ratio':'x'}", "ratio: expected number");
}

static void
test_fixture_file_merge_func(void)
{
	g_autoptr(StdiolinkSchema) schema = demo_schema("config_file_merge");
	g_autofree char *sample_path =
		fixture_path("original-data-roots", "demo_config_demo", "services", "config",
			     "sample_config.json", NULL);
	g_autofree char *contents = NULL;
	g_autoptr(JsonNode) sample = NULL;
	g_autoptr(JsonNode) over = parse("{'port':1,'server':{'port':7}}");
	g_autoptr(StdiolinkValidation) v = NULL;
	g_autofree char *filled = NULL;
	g_autofree char *expected = canonical(
		"{'port':1,'name':'from-file','debug':true,'mode':'fast',"
		"'server':{'host':'192.168.1.100','port':7,'ssl':false},"
		"'tags':['production','v2'],'ratio':0.85}");

	g_assert_true(g_file_get_contents(sample_path, &contents, NULL, NULL));
	sample = stdiolink_json_parse(contents, -1, NULL);
	g_assert_nonnull(sample);

	v = stdiolink_schema_merge_and_validate(schema, json_node_get_object(sample),
						json_node_get_object(over));
	g_assert_true(v->valid);
	filled = stdiolink_json_object_to_string(v->filled, STDIOLINK_JSON_COMPACT);
	g_assert_cmpstr(filled, ==, expected);

	assert_valid_text(schema, "{'port':1,'name':'n'}", "OK");
	assert_filled(schema, "{'port':1,'name':'n'}",
		      "{'port':1,'name':'n','debug':false,'mode':'normal',"
		      "'server':{'host':'0.0.0.0','port':6200,'ssl':false},'tags':[],'ratio':0.5}");
	assert_valid_text(schema, "{'port':1,'name':'n','ratio':-0.1}",
			  "ratio: value -0.1 < min 0");
}

static void
test_fixture_top_level_enum_func(void)
{
	g_autofree char *path = fixture_path("original-data-roots", "data_root", "services",
					     "modbusrtu_serial_server_service",
					     "config.schema.json", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(StdiolinkSchema) schema = stdiolink_schema_new_from_file(path, &error);
	const char *const *warnings;

	g_assert_no_error(error);
	warnings = stdiolink_schema_get_warnings(schema);
	g_assert_cmpuint(g_strv_length((GStrv)warnings), ==, 5);
	g_assert_cmpstr(warnings[0], ==,
			"field \"baud_rate\": top-level \"enum\" is ignored; put it in "
			"\"constraints\" with type \"enum\"");
	/* the ignored enum lets any value of the declared type pass */
	assert_valid_text(schema, "{'baud_rate':12345,'parity':'weird'}", "OK");
	assert_valid_text(schema, "{'baud_rate':'9600'}", "baud_rate: expected integer");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/schema/type-names", test_type_names_func);
	g_test_add_func("/schema/type-checks", test_type_checks_func);
	g_test_add_func("/schema/constraints", test_constraints_func);
	g_test_add_func("/schema/nested-paths", test_nested_paths_func);
	g_test_add_func("/schema/required-keys", test_required_keys_func);
	g_test_add_func("/schema/required-and-order", test_required_and_order_func);
	g_test_add_func("/schema/unknown-fields", test_unknown_fields_func);
	g_test_add_func("/schema/default-filling", test_default_filling_func);
	g_test_add_func("/schema/filled-when-invalid", test_filled_when_invalid_func);
	g_test_add_func("/schema/spec-example", test_spec_example_func);
	g_test_add_func("/schema/merge", test_merge_func);
	g_test_add_func("/schema/parse-errors", test_parse_errors_func);
	g_test_add_func("/schema/parse-empty", test_parse_empty_func);
	g_test_add_func("/schema/from-file", test_from_file_func);
	g_test_add_func("/schema/encoding-a-to-b", test_encoding_a_to_b_func);
	g_test_add_func("/schema/encoding-b", test_encoding_b_func);
	g_test_add_func("/schema/field-meta-accessors", test_field_meta_accessors_func);
	g_test_add_func("/schema/ui-hint", test_ui_hint_func);
	g_test_add_func("/schema/warnings", test_warnings_func);
	g_test_add_func("/schema/generate-defaults", test_generate_defaults_func);
	g_test_add_func("/schema/params", test_params_func);
	g_test_add_func("/schema/threads", test_shared_between_threads_func);
	g_test_add_func("/schema/result-text", test_result_text_func);
	g_test_add_func("/schema/fixtures/all", test_fixture_schemas_func);
	g_test_add_func("/schema/fixtures/field-counts", test_fixture_field_counts_func);
	g_test_add_func("/schema/fixtures/constraints", test_fixture_constraints_func);
	g_test_add_func("/schema/fixtures/array-and-enum", test_fixture_array_and_enum_func);
	g_test_add_func("/schema/fixtures/nested-object", test_fixture_nested_object_func);
	g_test_add_func("/schema/fixtures/basic-types", test_fixture_basic_types_func);
	g_test_add_func("/schema/fixtures/file-merge", test_fixture_file_merge_func);
	g_test_add_func("/schema/fixtures/top-level-enum", test_fixture_top_level_enum_func);
	return g_test_run();
}
