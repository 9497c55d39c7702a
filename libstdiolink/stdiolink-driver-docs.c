#include "config.h"

#include <string.h>

#include "stdiolink-driver-docs.h"
#include "stdiolink-error.h"
#include "stdiolink-json.h"

/*
 * Documentation generated from a DriverMeta (http-api.md 7.4, protocol.md 6): Markdown in
 * the earlier layout, an OpenAPI 3.0.3 document, TypeScript declarations and a plain HTML
 * page. The meta is expected in normalized form (stdiolink_driver_meta_normalize()).
 */

static const char *
str_member(JsonObject *object, const char *member)
{
	const char *value = object != NULL ? stdiolink_json_object_get_string(object, member)
					   : NULL;

	return value != NULL ? value : "";
}

static JsonArray *
array_member(JsonObject *object, const char *member)
{
	JsonNode *node = object != NULL ? json_object_get_member(object, member) : NULL;

	return node != NULL && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
}

static guint
array_length(JsonArray *array)
{
	return array != NULL ? json_array_get_length(array) : 0;
}

static JsonObject *
array_object(JsonArray *array, guint i)
{
	JsonNode *node = json_array_get_element(array, i);

	return JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

static char *
compact(JsonNode *node)
{
	return stdiolink_json_to_string(node, STDIOLINK_JSON_COMPACT);
}

/* ---- markdown ------------------------------------------------------------------------- */

static void
append_number(GString *out, JsonNode *node)
{
	g_autofree char *text = stdiolink_json_format_number(stdiolink_json_node_get_number(node));

	g_string_append(out, text);
}

/* ` (Range: <min>-<max>, Values: `a`, `b`)` when there is a range and/or enum values */
static void
append_constraints(GString *out, JsonObject *field)
{
	JsonNode *min = json_object_get_member(field, "min");
	JsonNode *max = json_object_get_member(field, "max");
	JsonArray *values = array_member(field, "enum");
	gboolean range = stdiolink_json_node_is_number(min) && stdiolink_json_node_is_number(max);

	if (!range && array_length(values) == 0)
		return;
	g_string_append(out, " (");
	if (range) {
		g_string_append(out, "Range: ");
		append_number(out, min);
		g_string_append_c(out, '-');
		append_number(out, max);
	}
	for (guint i = 0; i < array_length(values); i++) {
		JsonNode *value = json_array_get_element(values, i);
		g_autofree char *text = stdiolink_json_node_is_string(value)
					    ? g_strdup(json_node_get_string(value))
					    : compact(value);

		g_string_append_printf(out, "%s`%s`",
				       i == 0 ? (range ? ", Values: " : "Values: ") : ", ", text);
	}
	g_string_append_c(out, ')');
}

/* one row per field, nested object fields below their parent, indented 2 spaces a level */
static void
append_field_rows(GString *out, JsonArray *fields, guint depth, gboolean with_default)
{
	for (guint i = 0; i < array_length(fields); i++) {
		JsonObject *field = array_object(fields, i);
		JsonNode *def;

		if (field == NULL)
			continue;
		g_string_append(out, "| ");
		if (depth > 0) {
			for (guint d = 0; d < depth; d++)
				g_string_append(out, "  ");
			g_string_append(out, "- ");
		}
		g_string_append_printf(out, "%s | %s | ", str_member(field, "name"),
				       str_member(field, "type"));
		def = json_object_get_member(field, "default");
		if (with_default) {
			g_autofree char *text = def != NULL ? compact(def) : g_strdup("-");

			g_string_append(out, text);
		} else {
			gboolean required = json_object_get_boolean_member_with_default(
			    field, "required", FALSE);

			g_string_append(out, required ? "Yes" : "No");
		}
		g_string_append_printf(out, " | %s", str_member(field, "description"));
		append_constraints(out, field);
		g_string_append(out, " |\n");
		append_field_rows(out, array_member(field, "fields"), depth + 1, with_default);
	}
}

static void
append_field_table(GString *out, JsonArray *fields, gboolean with_default)
{
	g_string_append(out, with_default ? "| Name | Type | Default | Description |\n"
					  : "| Name | Type | Required | Description |\n");
	g_string_append(out, "|------|------|----------|-------------|\n");
	append_field_rows(out, fields, 0, with_default);
	g_string_append_c(out, '\n');
}

/* ^[A-Za-z_][A-Za-z0-9_-]*$ */
static gboolean
is_plain_key(const char *key)
{
	if (!g_ascii_isalpha(key[0]) && key[0] != '_')
		return FALSE;
	for (const char *p = key + 1; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-')
			return FALSE;
	}
	return TRUE;
}

/* `--<path>=<json literal>` for every leaf, keys sorted, `.`, `[i]` and `["key"]` paths */
static void
append_cli_args(GString *out, JsonNode *node, const char *path)
{
	if (JSON_NODE_HOLDS_OBJECT(node) && json_object_get_size(json_node_get_object(node)) > 0) {
		JsonObject *object = json_node_get_object(node);
		g_autoptr(GList) names = stdiolink_json_object_get_sorted_members(object);

		for (GList *l = names; l != NULL; l = l->next) {
			const char *key = l->data;
			g_autofree char *child = NULL;

			if (is_plain_key(key))
				child = *path == '\0' ? g_strdup(key)
						      : g_strconcat(path, ".", key, NULL);
			else
				child = g_strdup_printf("%s[\"%s\"]", path, key);
			append_cli_args(out, json_object_get_member(object, key), child);
		}
		return;
	}
	if (JSON_NODE_HOLDS_ARRAY(node) && json_array_get_length(json_node_get_array(node)) > 0) {
		JsonArray *array = json_node_get_array(node);

		for (guint i = 0; i < json_array_get_length(array); i++) {
			g_autofree char *child = g_strdup_printf("%s[%u]", path, i);

			append_cli_args(out, json_array_get_element(array, i), child);
		}
		return;
	}
	g_autofree char *literal = compact(node);

	g_string_append_printf(out, " --%s=%s", path, literal);
}

static char *
example_cli(JsonObject *example, const char *command, const char *program, const char *stdin_line)
{
	const char *mode = str_member(example, "mode");
	JsonObject *params = stdiolink_json_object_get_object(example, "params");
	const char *profile = str_member(params, "profile");
	GString *cli = g_string_new(NULL);

	if (g_str_equal(mode, "stdio")) {
		g_string_printf(cli, "echo '%s' | %s --mode=stdio", stdin_line, program);
		return g_string_free(cli, FALSE);
	}
	g_string_printf(cli, "%s --cmd=%s", program, command);
	if (*mode != '\0' && !g_str_equal(mode, "console"))
		g_string_append_printf(cli, " --mode=%s", mode);
	if (*profile != '\0' && !g_str_equal(profile, "oneshot"))
		g_string_append_printf(cli, " --profile=%s", profile);
	if (params != NULL) {
		g_autoptr(JsonObject) rest = json_object_new();
		g_autoptr(JsonNode) node = NULL;
		g_autoptr(GList) names = json_object_get_members(params);

		for (GList *l = names; l != NULL; l = l->next) {
			if (g_str_equal(l->data, "mode") || g_str_equal(l->data, "profile"))
				continue;
			json_object_set_member(rest, l->data,
					       json_node_copy(json_object_get_member(params,
										     l->data)));
		}
		node = stdiolink_json_node_new_object(json_object_ref(rest));
		append_cli_args(cli, node, "");
	}
	return g_string_free(cli, FALSE);
}

static void
append_example(GString *out, JsonObject *example, guint n, const char *command,
	       const char *program)
{
	const char *description = str_member(example, "description");
	const char *mode = str_member(example, "mode");
	JsonNode *params = json_object_get_member(example, "params");
	JsonNode *expected = json_object_get_member(example, "expectedOutput");
	g_autoptr(JsonObject) request = json_object_new();
	g_autofree char *stdin_line = NULL;
	g_autofree char *cli = NULL;

	json_object_set_string_member(request, "cmd", command);
	json_object_set_member(request, "data", params != NULL ? json_node_copy(params)
							       : json_node_new(JSON_NODE_NULL));
	stdin_line = stdiolink_json_object_to_string(request, STDIOLINK_JSON_COMPACT);
	cli = example_cli(example, command, program, stdin_line);

	if (*description != '\0')
		g_string_append_printf(out, "%u. %s\n", n, description);
	else
		g_string_append_printf(out, "%u. Example %u\n", n, n);
	g_string_append_printf(out, "- Mode: `%s`\n- CLI: `%s`\n", mode, cli);
	if (g_str_equal(mode, "stdio"))
		g_string_append_printf(out, "- Stdin: `%s`\n", stdin_line);
	if (expected != NULL) {
		g_autofree char *text = stdiolink_json_to_string(expected, STDIOLINK_JSON_PRETTY);

		g_strchomp(text);
		g_string_append_printf(out, "- Expected Output:\n```json\n%s\n```\n", text);
	}
	g_string_append_c(out, '\n');
}

static void
append_command_md(GString *out, JsonObject *command, const char *program)
{
	const char *name = str_member(command, "name");
	JsonObject *returns = stdiolink_json_object_get_object(command, "returns");
	JsonArray *params = array_member(command, "params");
	JsonArray *examples = array_member(command, "examples");
	JsonArray *return_fields = array_member(returns, "fields");

	g_string_append_printf(out, "### %s\n\n", name);
	if (*str_member(command, "title") != '\0')
		g_string_append_printf(out, "**%s**\n\n", str_member(command, "title"));
	if (*str_member(command, "description") != '\0')
		g_string_append_printf(out, "%s\n\n", str_member(command, "description"));
	if (array_length(params) > 0) {
		g_string_append(out, "#### Parameters\n\n");
		append_field_table(out, params, FALSE);
	}
	g_string_append(out, "#### Returns\n\n");
	if (*str_member(returns, "description") != '\0')
		g_string_append_printf(out, "%s\n\n", str_member(returns, "description"));
	if (array_length(return_fields) > 0)
		append_field_table(out, return_fields, FALSE);
	else
		g_string_append_printf(out, "**Type:** `%s`\n\n",
				       *str_member(returns, "type") != '\0'
					   ? str_member(returns, "type")
					   : "object");
	if (array_length(examples) == 0)
		return;
	g_string_append(out, "#### Examples\n\n");
	for (guint i = 0; i < array_length(examples); i++) {
		JsonObject *example = array_object(examples, i);

		if (example != NULL)
			append_example(out, example, i + 1, name, program);
	}
}

static char *
render_markdown(JsonObject *meta, const char *program)
{
	JsonObject *info = stdiolink_json_object_get_object(meta, "info");
	JsonArray *commands = array_member(meta, "commands");
	JsonArray *config = array_member(stdiolink_json_object_get_object(meta, "config"),
					 "fields");
	GString *out = g_string_new(NULL);

	g_string_append_printf(out, "# %s\n\n", str_member(info, "name"));
	if (*str_member(info, "version") != '\0')
		g_string_append_printf(out, "**Version:** %s\n\n", str_member(info, "version"));
	if (*str_member(info, "description") != '\0')
		g_string_append_printf(out, "%s\n\n", str_member(info, "description"));
	if (*str_member(info, "vendor") != '\0')
		g_string_append_printf(out, "**Vendor:** %s\n\n", str_member(info, "vendor"));
	if (array_length(commands) > 0)
		g_string_append(out, "## Commands\n\n");
	for (guint i = 0; i < array_length(commands); i++) {
		JsonObject *command = array_object(commands, i);

		if (command != NULL)
			append_command_md(out, command, program);
	}
	if (array_length(config) > 0) {
		g_string_append(out, "## Configuration\n\n");
		append_field_table(out, config, TRUE);
	}
	return g_string_free(out, FALSE);
}

/* ---- openapi -------------------------------------------------------------------------- */

static const char *
openapi_type(const char *type)
{
	if (g_str_equal(type, "string") || g_str_equal(type, "enum"))
		return "string";
	if (g_str_equal(type, "int") || g_str_equal(type, "int64"))
		return "integer";
	if (g_str_equal(type, "double"))
		return "number";
	if (g_str_equal(type, "bool"))
		return "boolean";
	if (g_str_equal(type, "array"))
		return "array";
	return "object";
}

static JsonObject *openapi_object_schema(JsonArray *fields);

static JsonObject *
openapi_field_schema(JsonObject *field)
{
	static const char *const copied[][2] = {
	    {"min", "minimum"}, {"max", "maximum"}, {"enum", "enum"},
	    {"default", "default"}, {"description", "description"},
	};
	const char *type = str_member(field, "type");
	JsonObject *schema;
	JsonObject *items = stdiolink_json_object_get_object(field, "items");

	schema = array_length(array_member(field, "fields")) > 0
		     ? openapi_object_schema(array_member(field, "fields"))
		     : json_object_new();
	json_object_set_string_member(schema, "type", openapi_type(type));
	for (guint i = 0; i < G_N_ELEMENTS(copied); i++) {
		JsonNode *value = json_object_get_member(field, copied[i][0]);

		if (value != NULL)
			json_object_set_member(schema, copied[i][1], json_node_copy(value));
	}
	if (items != NULL)
		json_object_set_object_member(schema, "items", openapi_field_schema(items));
	return schema;
}

static JsonObject *
openapi_object_schema(JsonArray *fields)
{
	JsonObject *schema = json_object_new();
	JsonObject *properties = json_object_new();
	JsonArray *required = json_array_new();

	json_object_set_string_member(schema, "type", "object");
	for (guint i = 0; i < array_length(fields); i++) {
		JsonObject *field = array_object(fields, i);

		if (field == NULL)
			continue;
		json_object_set_object_member(properties, str_member(field, "name"),
					      openapi_field_schema(field));
		if (json_object_get_boolean_member_with_default(field, "required", FALSE))
			json_array_add_string_element(required, str_member(field, "name"));
	}
	json_object_set_object_member(schema, "properties", properties);
	if (json_array_get_length(required) > 0)
		json_object_set_array_member(schema, "required", required);
	else
		json_array_unref(required);
	return schema;
}

static JsonObject *
json_content(JsonObject *schema)
{
	JsonObject *content = json_object_new();
	JsonObject *media = json_object_new();

	json_object_set_object_member(media, "schema", schema);
	json_object_set_object_member(content, "application/json", media);
	return content;
}

static JsonObject *
openapi_response_schema(void)
{
	JsonObject *schema = json_object_new();
	JsonObject *properties = json_object_new();
	JsonObject *status = json_object_new();
	JsonObject *code = json_object_new();
	JsonArray *values = json_array_new();

	json_array_add_string_element(values, "done");
	json_array_add_string_element(values, "error");
	json_array_add_string_element(values, "event");
	json_object_set_string_member(status, "type", "string");
	json_object_set_array_member(status, "enum", values);
	json_object_set_string_member(code, "type", "integer");
	json_object_set_object_member(properties, "status", status);
	json_object_set_object_member(properties, "code", code);
	json_object_set_object_member(properties, "data", json_object_new());
	json_object_set_string_member(schema, "type", "object");
	json_object_set_object_member(schema, "properties", properties);
	return schema;
}

static JsonObject *
openapi_operation(JsonObject *command)
{
	const char *name = str_member(command, "name");
	const char *title = str_member(command, "title");
	JsonObject *operation = json_object_new();
	JsonObject *body = json_object_new();
	JsonObject *responses = json_object_new();
	JsonObject *ok = json_object_new();
	JsonArray *examples = array_member(command, "examples");

	json_object_set_string_member(operation, "summary", *title != '\0' ? title : name);
	json_object_set_string_member(operation, "description",
				      str_member(command, "description"));
	json_object_set_string_member(operation, "operationId", name);
	json_object_set_object_member(body, "content",
				      json_content(openapi_object_schema(
					  array_member(command, "params"))));
	json_object_set_object_member(operation, "requestBody", body);
	json_object_set_string_member(ok, "description", "JSONL response");
	json_object_set_object_member(ok, "content", json_content(openapi_response_schema()));
	json_object_set_object_member(responses, "200", ok);
	json_object_set_object_member(operation, "responses", responses);
	json_object_set_array_member(operation, "x-stdiolink-examples",
				     examples != NULL ? json_array_ref(examples)
						      : json_array_new());
	return operation;
}

static char *
render_openapi(JsonObject *meta)
{
	JsonObject *info = stdiolink_json_object_get_object(meta, "info");
	JsonArray *commands = array_member(meta, "commands");
	g_autoptr(JsonObject) root = json_object_new();
	JsonObject *api_info = json_object_new();
	JsonObject *paths = json_object_new();

	json_object_set_string_member(api_info, "title", str_member(info, "name"));
	json_object_set_string_member(api_info, "version", str_member(info, "version"));
	json_object_set_string_member(api_info, "description", str_member(info, "description"));
	for (guint i = 0; i < array_length(commands); i++) {
		JsonObject *command = array_object(commands, i);
		JsonObject *item;
		g_autofree char *path = NULL;

		if (command == NULL)
			continue;
		path = g_strconcat("/", str_member(command, "name"), NULL);
		g_strdelimit(path, ".", '/');
		item = json_object_new();
		json_object_set_object_member(item, "post", openapi_operation(command));
		json_object_set_object_member(paths, path, item);
	}
	json_object_set_string_member(root, "openapi", "3.0.3");
	json_object_set_object_member(root, "info", api_info);
	json_object_set_object_member(root, "paths", paths);
	return stdiolink_json_object_to_string(root, STDIOLINK_JSON_PRETTY);
}

/* ---- typescript ----------------------------------------------------------------------- */

static void append_ts_type(GString *out, JsonObject *field);

static void
append_ts_fields(GString *out, JsonArray *fields)
{
	g_string_append(out, "{ ");
	for (guint i = 0; i < array_length(fields); i++) {
		JsonObject *field = array_object(fields, i);
		gboolean required;

		if (field == NULL)
			continue;
		required = json_object_get_boolean_member_with_default(field, "required", FALSE);
		g_string_append_printf(out, "%s%s: ", str_member(field, "name"),
				       required ? "" : "?");
		append_ts_type(out, field);
		g_string_append(out, "; ");
	}
	g_string_append_c(out, '}');
}

static void
append_ts_type(GString *out, JsonObject *field)
{
	const char *type = str_member(field, "type");
	JsonArray *values = array_member(field, "enum");
	JsonObject *items = stdiolink_json_object_get_object(field, "items");

	if (g_str_equal(type, "enum") && array_length(values) > 0) {
		for (guint i = 0; i < array_length(values); i++) {
			g_autofree char *text = compact(json_array_get_element(values, i));

			g_string_append_printf(out, "%s%s", i > 0 ? " | " : "", text);
		}
	} else if (g_str_equal(type, "object") && array_length(array_member(field, "fields")) > 0) {
		append_ts_fields(out, array_member(field, "fields"));
	} else if (g_str_equal(type, "array")) {
		g_string_append(out, "Array<");
		if (items != NULL)
			append_ts_type(out, items);
		else
			g_string_append(out, "unknown");
		g_string_append_c(out, '>');
	} else {
		const char *ts = g_str_equal(type, "object") ? "Record<string, unknown>"
				 : g_str_equal(type, "any")   ? "unknown"
							      : openapi_type(type);

		g_string_append(out, g_str_equal(ts, "integer") ? "number" : ts);
	}
}

static char *
render_typescript(JsonObject *meta)
{
	JsonObject *info = stdiolink_json_object_get_object(meta, "info");
	JsonArray *commands = array_member(meta, "commands");
	GString *out = g_string_new(NULL);

	g_string_append_printf(out, "// %s %s\n\n", str_member(info, "name"),
			       str_member(info, "version"));
	g_string_append(out, "export interface Commands {\n");
	for (guint i = 0; i < array_length(commands); i++) {
		JsonObject *command = array_object(commands, i);

		if (command == NULL)
			continue;
		g_string_append_printf(out, "  \"%s\": ", str_member(command, "name"));
		append_ts_fields(out, array_member(command, "params"));
		g_string_append(out, ";\n");
	}
	g_string_append(out, "}\n");
	return g_string_free(out, FALSE);
}

/* ---- html ----------------------------------------------------------------------------- */

static char *
render_html(JsonObject *meta, const char *program)
{
	JsonObject *info = stdiolink_json_object_get_object(meta, "info");
	g_autofree char *markdown = render_markdown(meta, program);
	g_autofree char *title = g_markup_escape_text(str_member(info, "name"), -1);
	g_autofree char *body = g_markup_escape_text(markdown, -1);

	return g_strdup_printf("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n"
			       "<title>%s</title>\n</head>\n<body>\n<pre>%s</pre>\n</body>\n"
			       "</html>\n",
			       title, body);
}

/**
 * stdiolink_driver_docs_render:
 * @meta: a normalized DriverMeta object
 * @format: `markdown`/`md`, `openapi`/`swagger`, `html` or `ts`/`typescript`/`dts`
 *   (case-insensitive)
 * @program: the driver program, shown in example command lines
 * @content_type: (out) (optional): the matching Content-Type
 *
 * Returns: (transfer full) (nullable): the document, or %NULL for an unknown format
 */
char *
stdiolink_driver_docs_render(JsonObject *meta,
			     const char *format,
			     const char *program,
			     const char **content_type)
{
	g_autofree char *lower = g_ascii_strdown(format, -1);
	const char *type = "text/plain";
	char *text = NULL;

	if (g_str_equal(lower, "markdown") || g_str_equal(lower, "md")) {
		text = render_markdown(meta, program);
	} else if (g_str_equal(lower, "openapi") || g_str_equal(lower, "swagger")) {
		text = render_openapi(meta);
		type = "application/json";
	} else if (g_str_equal(lower, "html")) {
		text = render_html(meta, program);
		type = "text/html";
	} else if (g_str_equal(lower, "ts") || g_str_equal(lower, "typescript") ||
		   g_str_equal(lower, "dts")) {
		text = render_typescript(meta);
	}
	if (content_type != NULL)
		*content_type = type;
	return text;
}

/**
 * stdiolink_driver_docs_render_api:
 * @detail: a driver as `GET /api/drivers/{id}` shows it (`program`, normalized `meta`)
 * @format: (nullable): the `format` query value: `html`, `openapi`, `typescript`/`ts`,
 *   anything else (or none) is Markdown; case-insensitive
 * @content_type: (out): the Content-Type of the answer
 * @error: return location for a #GError
 *
 * The body of `GET /api/drivers/{id}/docs` (http-api.md 7.4). A driver without meta fails
 * with %STDIOLINK_ERROR_NOT_FOUND `driver has no metadata`.
 *
 * Returns: (transfer full) (nullable): the document
 */
char *
stdiolink_driver_docs_render_api(JsonObject *detail,
				 const char *format,
				 const char **content_type,
				 GError **error)
{
	JsonObject *meta = stdiolink_json_object_get_object(detail, "meta");
	g_autofree char *lower = g_ascii_strdown(format != NULL ? format : "", -1);
	const char *chosen = "markdown";

	if (meta == NULL) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND,
				    "driver has no metadata");
		return NULL;
	}
	if (g_str_equal(lower, "html") || g_str_equal(lower, "openapi") ||
	    g_str_equal(lower, "typescript") || g_str_equal(lower, "ts"))
		chosen = lower;
	return stdiolink_driver_docs_render(meta, chosen, str_member(detail, "program"),
					    content_type);
}
