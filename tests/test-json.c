#include "config.h"

#include "stdiolink.h"

static void
check_roundtrip(const char *in, const char *expected)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = stdiolink_json_parse(in, -1, &error);
	g_autofree char *out = NULL;

	g_assert_no_error(error);
	out = stdiolink_json_to_string(node, STDIOLINK_JSON_COMPACT);
	g_assert_cmpstr(out, ==, expected);
}

static void
test_json_numbers_func(void)
{
	check_roundtrip("[0.1, 5000, 5000.0, 1.5, -0.25, 1e3, 3000000000]",
			"[0.1,5000,5000,1.5,-0.25,1000,3000000000]");
	check_roundtrip("[1.2500001, 123456789.125]", "[1.2500001,123456789.125]");
}

static void
test_json_sorted_keys_func(void)
{
	check_roundtrip("{\"b\":1,\"a\":{\"z\":true,\"B\":null},\"\\u00e9\":\"\\u00e9/\"}",
			"{\"a\":{\"B\":null,\"z\":true},\"b\":1,\"\xc3\xa9\":\"\xc3\xa9/\"}");
}

static void
test_json_escapes_func(void)
{
	check_roundtrip("[\"a\\\"b\\\\c\\n\\u0001\"]", "[\"a\\\"b\\\\c\\n\\u0001\"]");
}

static void
test_json_pretty_func(void)
{
	g_autoptr(JsonNode) node = stdiolink_json_parse("{\"b\":[1,2],\"a\":{}}", -1, NULL);
	g_autofree char *out = stdiolink_json_to_string(node, STDIOLINK_JSON_PRETTY);

	g_assert_cmpstr(out, ==,
			"{\n    \"a\": {},\n    \"b\": [\n        1,\n        2\n    ]\n}\n");
}

static void
test_json_parse_errors_func(void)
{
	const char *bad[] = {"", "{", "{\"a\":}", "\xff\xfe", "nul\0x"};

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) node = stdiolink_json_parse(bad[i], i == 4 ? 5 : -1, &error);

		g_assert_null(node);
		g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST);
	}
}

static void
expect_refused(const char *text, gssize length, const char *message)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = stdiolink_json_parse(text, length, &error);

	g_assert_null(node);
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST);
	if (message != NULL)
		g_assert_cmpstr(error->message, ==, message);
}

/* inputs json-glib would crash on, truncate or half-accept */
static void
test_json_hostile_func(void)
{
	g_autofree char *deep = g_strnfill(100000, '[');
	g_autofree char *open = g_strnfill(STDIOLINK_JSON_MAX_DEPTH, '[');
	g_autofree char *close = g_strnfill(STDIOLINK_JSON_MAX_DEPTH, ']');
	g_autofree char *ok_depth = g_strconcat(open, close, NULL);
	g_autoptr(JsonNode) node = NULL;

	expect_refused(deep, -1, "JSON nested too deeply");
	node = stdiolink_json_parse(ok_depth, -1, NULL);
	g_assert_nonnull(node);

	expect_refused("{\"a\":1} [1,2]", -1, "unexpected content after the JSON value");
	expect_refused("{\"a\":1}{\"b\":2}", -1, "unexpected content after the JSON value");
	expect_refused("1 2", -1, "unexpected content after the JSON value");
	expect_refused("\"a\" \"b\"", -1, "unexpected content after the JSON value");
	expect_refused("{\"id\":\"u5\\u0000evil\"}", -1, "NUL character (\\u0000) in JSON string");
	expect_refused("{\"a\":\"x\"}\0", 10, "NUL byte in JSON text");
	expect_refused("\"\xff\"", -1, "invalid UTF-8 in JSON text");

	/* found by fuzzing: escapes json-glib turns into bytes that are not UTF-8 */
	expect_refused("\"\\uc\xc3\xa9\"", -1, "invalid \\u escape in JSON string");
	expect_refused("[\"\\ud800x\"]", -1, "unpaired surrogate in JSON string");
	expect_refused("\"\\d\"", -1, "invalid escape in JSON string");

	/* escapes that only look alike pass */
	g_clear_pointer(&node, json_node_unref);
	node = stdiolink_json_parse("[\"\\ud83d\\ude00\"]", -1, NULL);
	g_assert_nonnull(node);
	g_clear_pointer(&node, json_node_unref);
	node = stdiolink_json_parse("{\"a\":\"\\\\u0000 \\u00001\\\"]\"}  \n", -1, NULL);
	g_assert_null(node);
	node = stdiolink_json_parse("{\"a\":\"\\\\u0000 \\\"]\"}  \n", -1, NULL);
	g_assert_nonnull(node);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(node), "a"), ==,
			"\\u0000 \"]");
}

static void
test_json_equal_func(void)
{
	g_autoptr(JsonNode) a = stdiolink_json_parse("{\"x\":[1,\"s\",{\"y\":2.0}]}", -1, NULL);
	g_autoptr(JsonNode) b = stdiolink_json_parse("{\"x\":[1.0,\"s\",{\"y\":2}]}", -1, NULL);
	g_autoptr(JsonNode) c = stdiolink_json_parse("{\"x\":[1,\"s\",{\"y\":3}]}", -1, NULL);

	g_assert_true(stdiolink_json_equal(a, b));
	g_assert_false(stdiolink_json_equal(a, c));
	g_assert_true(stdiolink_json_equal(NULL, NULL));
	g_assert_false(stdiolink_json_equal(a, NULL));
}

static void
test_json_ordered_members_func(void)
{
	g_autoptr(JsonNode) node = stdiolink_json_parse("{\"b\":1,\"a\":2,\"c\":3}", -1, NULL);
	JsonObject *object = json_node_get_object(node);
	g_autoptr(GList) names = stdiolink_json_object_get_ordered_members(object);

	g_assert_cmpstr(g_list_nth_data(names, 0), ==, "b");
	g_assert_cmpstr(g_list_nth_data(names, 1), ==, "a");
	g_assert_cmpstr(g_list_nth_data(names, 2), ==, "c");
}

static void
test_json_node_new_object_func(void)
{
	JsonObject *object = json_object_new();
	g_autoptr(JsonNode) node = NULL;

	/* the node takes over our reference: no unref of @object here */
	json_object_set_int_member(object, "a", 1);
	node = stdiolink_json_node_new_object(object);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	g_assert_true(json_node_get_object(node) == object);
	g_assert_cmpint(json_object_get_int_member(json_node_get_object(node), "a"), ==, 1);
}

static void
test_error_codes_func(void)
{
	for (guint i = 0; i < STDIOLINK_ERROR_LAST; i++) {
		const char *code = stdiolink_error_to_code(i);

		g_assert_nonnull(code);
		g_assert_cmpint(stdiolink_error_from_code(code), ==, i);
	}
}

static void
test_error_invalid_data_func(void)
{
	g_autoptr(GError) error = NULL;

	g_assert_false(stdiolink_set_invalid_data(&error, "bad %s: %d", "file", 7));
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INVALID_DATA);
	g_assert_cmpstr(error->message, ==, "bad file: 7");

	/* a caller that does not want the error still gets FALSE */
	g_assert_false(stdiolink_set_invalid_data(NULL, "ignored"));
}

static void
test_util_sort_strings_func(void)
{
	const char *strings[] = {"b", "\xc3\xa9", "B", "a", "_", "ab"};
	const char *expected[] = {"B", "_", "a", "ab", "b", "\xc3\xa9"};
	g_autoptr(GPtrArray) array = g_ptr_array_new();

	for (guint i = 0; i < G_N_ELEMENTS(strings); i++)
		g_ptr_array_add(array, (gpointer)strings[i]);

	/* code-point order: upper case before '_' before lower case before non-ASCII */
	stdiolink_sort_strings(array);
	for (guint i = 0; i < G_N_ELEMENTS(expected); i++)
		g_assert_cmpstr(array->pdata[i], ==, expected[i]);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/json/numbers", test_json_numbers_func);
	g_test_add_func("/json/sorted-keys", test_json_sorted_keys_func);
	g_test_add_func("/json/escapes", test_json_escapes_func);
	g_test_add_func("/json/pretty", test_json_pretty_func);
	g_test_add_func("/json/parse-errors", test_json_parse_errors_func);
	g_test_add_func("/json/equal", test_json_equal_func);
	g_test_add_func("/json/hostile", test_json_hostile_func);
	g_test_add_func("/json/ordered-members", test_json_ordered_members_func);
	g_test_add_func("/json/node-new-object", test_json_node_new_object_func);
	g_test_add_func("/error/codes", test_error_codes_func);
	g_test_add_func("/error/invalid-data", test_error_invalid_data_func);
	g_test_add_func("/util/sort-strings", test_util_sort_strings_func);
	return g_test_run();
}
