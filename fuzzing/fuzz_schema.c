#include "config.h"

#include "fuzz-common.h"
#include "stdiolink.h"

/*
 * Input: a schema, NUL, a value. The schema is read as a service's config.schema.json
 * (encoding A) and as a driver's `params` list (encoding B); the value is checked against
 * both, as a project config and as command data.
 */

static void
check_validation(StdiolinkValidation *v)
{
	g_autofree char *text = stdiolink_validation_to_string(v);
	g_autoptr(JsonNode) filled = stdiolink_json_node_new_object(json_object_ref(v->filled));

	g_assert_nonnull(text);
	g_assert_nonnull(v->filled);
	g_assert_true(v->valid == (v->error_message == NULL));
	fuzz_render(filled);
}

static void
exercise_schema(StdiolinkSchema *schema, JsonNode *value)
{
	g_autoptr(JsonNode) rendered = stdiolink_schema_to_json(schema);
	g_autoptr(JsonObject) defaults = stdiolink_schema_generate_defaults(schema);
	g_auto(GStrv) required = stdiolink_schema_get_required_fields(schema);
	g_auto(GStrv) optional = stdiolink_schema_get_optional_fields(schema);
	g_autoptr(StdiolinkValidation) v = NULL;
	g_autoptr(StdiolinkValidation) merged = NULL;
	JsonObject *config;
	GPtrArray *fields = stdiolink_schema_get_fields(schema);

	fuzz_render(rendered);
	(void)stdiolink_schema_get_warnings(schema);

	/* every top-level field is either required or optional */
	g_assert_cmpuint(g_strv_length(required) + g_strv_length(optional), ==, fields->len);
	for (guint i = 0; i < fields->len; i++)
		(void)stdiolink_schema_find_field(schema,
						  stdiolink_field_meta_get_name(fields->pdata[i]));

	/* the defaults are what a new project starts from: they must pass */
	v = stdiolink_schema_validate(schema, defaults);
	check_validation(v);

	if (value == NULL || !JSON_NODE_HOLDS_OBJECT(value))
		return;
	config = json_node_get_object(value);
	g_clear_pointer(&v, stdiolink_validation_free);
	v = stdiolink_schema_validate(schema, config);
	check_validation(v);
	merged = stdiolink_schema_merge_and_validate(schema, defaults, config);
	check_validation(merged);
}

static void
exercise_fields(JsonNode *list, JsonNode *value)
{
	g_autoptr(GPtrArray) fields = stdiolink_fields_new_from_json(list);
	g_autoptr(JsonNode) rendered = stdiolink_fields_to_json(fields);
	g_autoptr(StdiolinkValidation) v = stdiolink_fields_validate_params(fields, value);
	g_autoptr(JsonObject) hint = stdiolink_ui_hint_normalize(list);

	fuzz_render(rendered);
	check_validation(v);
	g_assert_true(hint == NULL || json_object_get_size(hint) > 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzInput in;
	g_autoptr(JsonNode) schema_node = NULL;
	g_autoptr(JsonNode) value = NULL;
	g_autoptr(StdiolinkSchema) schema = NULL;

	fuzz_input_init(&in, data, size);
	schema_node = fuzz_input_next_json(&in);
	value = fuzz_input_next_json(&in);
	if (schema_node == NULL)
		return 0;

	if (JSON_NODE_HOLDS_OBJECT(schema_node))
		schema = stdiolink_schema_new_from_json(json_node_get_object(schema_node), NULL);
	if (schema != NULL)
		exercise_schema(schema, value);
	exercise_fields(schema_node, value);
	return 0;
}
