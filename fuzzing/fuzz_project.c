#include "config.h"

#include "fuzz-common.h"
#include "stdiolink.h"

/*
 * Input: config.json, NUL, param.json, NUL, the service's config.schema.json. The project
 * parser is reached without disk the way the loader reaches it (config.json refuses
 * `config`; param.json becomes the config) and the way the API does (a body that may carry
 * `config`); each project is then validated against the schema as the daemon does after a
 * scan, copied, and rendered as `GET /api/projects` would.
 */

static void
exercise_project(StdiolinkProject *project, JsonNode *params, StdiolinkSchema *schema)
{
	g_autoptr(StdiolinkProject) copy = NULL;
	g_autoptr(JsonNode) rendered = NULL;
	g_autoptr(JsonNode) copy_rendered = NULL;

	if (params != NULL && JSON_NODE_HOLDS_OBJECT(params))
		stdiolink_project_set_config(project, json_node_get_object(params));

	stdiolink_project_validate(project, schema != NULL ? "service" : NULL, schema);
	g_assert_true(stdiolink_project_get_valid(project) ==
		      (stdiolink_project_get_error(project) == NULL));
	(void)stdiolink_project_get_schedule(project);
	(void)stdiolink_project_status(project, 0);
	(void)stdiolink_project_status(project, 1);

	copy = stdiolink_project_copy(project);
	rendered = stdiolink_project_to_json(project, 1);
	copy_rendered = stdiolink_project_to_json(copy, 1);
	fuzz_render(rendered);
	g_assert_true(stdiolink_json_equal(rendered, copy_rendered));
}

static void
parse_as(JsonObject *body, gboolean allow_config, JsonNode *params, StdiolinkSchema *schema)
{
	g_autoptr(StdiolinkProject) project = NULL;
	g_autoptr(GError) error = NULL;

	project = stdiolink_project_new_from_json("fuzz_project", body, allow_config, &error);
	g_assert_true((project == NULL) == (error != NULL));
	if (project != NULL)
		exercise_project(project, allow_config ? NULL : params, schema);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzInput in;
	g_autoptr(JsonNode) config = NULL;
	g_autoptr(JsonNode) params = NULL;
	g_autoptr(JsonNode) schema_node = NULL;
	g_autoptr(StdiolinkSchema) schema = NULL;

	fuzz_input_init(&in, data, size);
	config = fuzz_input_next_json(&in);
	params = fuzz_input_next_json(&in);
	schema_node = fuzz_input_next_json(&in);
	if (config == NULL || !JSON_NODE_HOLDS_OBJECT(config))
		return 0;

	if (schema_node != NULL && JSON_NODE_HOLDS_OBJECT(schema_node))
		schema = stdiolink_schema_new_from_json(json_node_get_object(schema_node), NULL);
	parse_as(json_node_get_object(config), FALSE, params, schema);
	parse_as(json_node_get_object(config), TRUE, params, schema);
	return 0;
}
