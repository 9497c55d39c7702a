#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>

#include "stdiolink-error.h"
#include "stdiolink-json.h"
#include "stdiolink-schema.h"
#include "stdiolink-service-create.h"
#include "stdiolink-service-files.h"
#include "stdiolink-util.h"

/*
 * A new service folder from a template (http-api.md 4.2). Besides the three JavaScript
 * templates of the earlier server there is `exec`, a native service (DESIGN.md, "Native
 * services") whose entry is a shell script, so a service can be written and run through
 * the API on a machine without a JavaScript runtime.
 */

#define SERVICE_ID_MAX 128

typedef struct {
	const char *name;
	const char *index_js; /* NULL: no index.js unless the request gives one */
	const char *run;      /* NULL: not a native service */
	const char *schema;
} Template;

static const char empty_js[] =
    "import { getConfig } from \"stdiolink\";\n"
    "\n"
    "const config = getConfig();\n";

static const char basic_js[] =
    "import { getConfig } from \"stdiolink\";\n"
    "import { createLogger } from \"stdiolink/log\";\n"
    "\n"
    "const config = getConfig();\n"
    "const logger = createLogger();\n"
    "\n"
    "logger.info(\"service started\", { config });\n";

static const char driver_demo_js[] =
    "import { getConfig, openDriver } from \"stdiolink\";\n"
    "import { createLogger } from \"stdiolink/log\";\n"
    "\n"
    "const config = getConfig();\n"
    "const logger = createLogger();\n"
    "\n"
    "const driver = await openDriver(config.driverPath);\n"
    "const task = driver.request(\"meta.describe\");\n"
    "const result = await task.wait();\n"
    "logger.info(\"driver described\", { result });\n"
    "driver.close();\n";

static const char exec_run[] =
    "#!/bin/sh\n"
    "# A native stdiolink service: stdiolinkd runs this file with\n"
    "# --config-file=<path>, a JSON file holding the project's configuration.\n"
    "\n"
    "config_file=\n"
    "for arg in \"$@\"; do\n"
    "\tcase \"$arg\" in\n"
    "\t--config-file=*) config_file=${arg#--config-file=} ;;\n"
    "\tesac\n"
    "done\n"
    "\n"
    "echo \"service started\"\n"
    "if [ -n \"$config_file\" ]; then\n"
    "\tcat \"$config_file\"\n"
    "\techo\n"
    "fi\n";

static const Template templates[] = {
	{"empty", empty_js, NULL, "{}"},
	{"basic", basic_js, NULL,
	 "{\"name\":{\"type\":\"string\",\"required\":true,"
	 "\"description\":\"Service display name\"}}"},
	{"driver_demo", driver_demo_js, NULL,
	 "{\"driverPath\":{\"type\":\"string\",\"required\":true,"
	 "\"description\":\"Path to driver executable\"}}"},
	{"exec", NULL, exec_run, "{}"},
};

static const Template *
find_template(const char *name)
{
	for (guint i = 0; i < G_N_ELEMENTS(templates); i++) {
		if (g_str_equal(templates[i].name, name))
			return &templates[i];
	}
	return NULL;
}

/**
 * stdiolink_service_is_valid_new_id:
 * @id: (nullable): a candidate id
 *
 * Ids of services created through the API: `^[a-zA-Z0-9_-]+$`, at most 128 characters, so
 * the id is also a safe folder name. Services found on disk may have any non-empty id.
 *
 * Returns: %TRUE if @id may name a new service
 */
gboolean
stdiolink_service_is_valid_new_id(const char *id)
{
	return stdiolink_is_valid_project_id(id) && strlen(id) <= SERVICE_ID_MAX;
}

/**
 * stdiolink_service_spec_free:
 * @spec: (nullable): a spec
 */
void
stdiolink_service_spec_free(StdiolinkServiceSpec *spec)
{
	if (spec == NULL)
		return;
	g_free(spec->id);
	g_free(spec->name);
	g_free(spec->version);
	g_free(spec->description);
	g_free(spec->author);
	g_free(spec->template_name);
	g_free(spec->index_js);
	g_free(spec->config_schema);
	g_free(spec);
}

static gboolean
bad_request(GError **error, const char *message)
{
	g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST, message);
	return FALSE;
}

static gboolean
take_required(JsonObject *body, const char *member, char **out, GError **error)
{
	const char *value = stdiolink_json_object_get_string(body, member);

	if (value == NULL || *value == '\0') {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
			    "missing required string field: %s", member);
		return FALSE;
	}
	*out = g_strdup(value);
	return TRUE;
}

/* a non-string description, author or template counts as absent */
static char *
take_optional(JsonObject *body, const char *member, const char *fallback)
{
	const char *value = stdiolink_json_object_get_string(body, member);

	return g_strdup(value != NULL ? value : fallback);
}

static gboolean
take_template(JsonObject *body, StdiolinkServiceSpec *spec, GError **error)
{
	spec->template_name = take_optional(body, "template", "empty");
	if (find_template(spec->template_name) == NULL)
		return bad_request(error, "invalid template: must be 'empty', 'basic', "
					  "'driver_demo', or 'exec'");
	return TRUE;
}

static gboolean
take_index_js(JsonObject *body, StdiolinkServiceSpec *spec, GError **error)
{
	JsonNode *node = json_object_get_member(body, "indexJs");

	if (node == NULL)
		return TRUE;
	if (!stdiolink_json_node_is_string(node))
		return bad_request(error, "field 'indexJs' must be a string");
	spec->index_js = g_strdup(json_node_get_string(node));
	return TRUE;
}

static gboolean
check_config_schema_type(JsonObject *body, GError **error)
{
	JsonNode *node = json_object_get_member(body, "configSchema");

	if (node != NULL && !JSON_NODE_HOLDS_OBJECT(node))
		return bad_request(error, "field 'configSchema' must be an object");
	return TRUE;
}

/* the schema must pass the strict parser now: a created service has to load */
static gboolean
take_config_schema(JsonObject *body, StdiolinkServiceSpec *spec, GError **error)
{
	JsonObject *schema = stdiolink_json_object_get_object(body, "configSchema");
	g_autoptr(StdiolinkSchema) parsed = NULL;
	g_autoptr(GError) parse_error = NULL;

	if (schema == NULL)
		return TRUE;
	parsed = stdiolink_schema_new_from_json(schema, &parse_error);
	if (parsed == NULL) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
			    "invalid configSchema: %s", parse_error->message);
		return FALSE;
	}
	spec->config_schema = stdiolink_json_object_to_string(schema, STDIOLINK_JSON_PRETTY);
	return TRUE;
}

/**
 * stdiolink_service_spec_new_from_json: (skip)
 * @body: the body of `POST /api/services`
 * @error: return location for a #GError
 *
 * Checks the body in the order of http-api.md 4.2 (the field rules, then the id, then
 * the strict parse of `configSchema`) and copies what it asks for, so that a worker thread
 * can create the folder without touching @body. Failures are %STDIOLINK_ERROR_BAD_REQUEST.
 *
 * Returns: (transfer full): the spec, or %NULL with @error set
 */
StdiolinkServiceSpec *
stdiolink_service_spec_new_from_json(JsonObject *body, GError **error)
{
	g_autoptr(StdiolinkServiceSpec) spec = g_new0(StdiolinkServiceSpec, 1);

	g_return_val_if_fail(body != NULL, NULL);

	if (!take_required(body, "id", &spec->id, error) ||
	    !take_required(body, "name", &spec->name, error) ||
	    !take_required(body, "version", &spec->version, error))
		return NULL;
	spec->description = take_optional(body, "description", "");
	spec->author = take_optional(body, "author", "");
	if (!take_template(body, spec, error) || !take_index_js(body, spec, error) ||
	    !check_config_schema_type(body, error))
		return NULL;

	if (!stdiolink_service_is_valid_new_id(spec->id)) {
		bad_request(error, "invalid service id");
		return NULL;
	}
	if (!take_config_schema(body, spec, error))
		return NULL;
	return g_steal_pointer(&spec);
}

/* ---- the folder -------------------------------------------------------------------- */

static char *
manifest_text(const StdiolinkServiceSpec *spec, const Template *tmpl)
{
	g_autoptr(JsonObject) manifest = json_object_new();

	json_object_set_string_member(manifest, "manifestVersion", "1");
	json_object_set_string_member(manifest, "id", spec->id);
	json_object_set_string_member(manifest, "name", spec->name);
	json_object_set_string_member(manifest, "version", spec->version);
	if (*spec->description != '\0')
		json_object_set_string_member(manifest, "description", spec->description);
	if (*spec->author != '\0')
		json_object_set_string_member(manifest, "author", spec->author);
	if (tmpl->run != NULL) {
		json_object_set_string_member(manifest, "runtime", "exec");
		json_object_set_string_member(manifest, "entry", "run");
	}
	return stdiolink_json_object_to_string(manifest, STDIOLINK_JSON_PRETTY);
}

static char *
schema_text(const StdiolinkServiceSpec *spec, const Template *tmpl)
{
	g_autoptr(JsonNode) node = NULL;

	if (spec->config_schema != NULL)
		return g_strdup(spec->config_schema);
	node = stdiolink_json_parse(tmpl->schema, -1, NULL);
	return stdiolink_json_to_string(node, STDIOLINK_JSON_PRETTY);
}

static gboolean
write_one(const char *dir, const char *name, const char *text, int mode, GError **error)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autoptr(GError) local_error = NULL;

	if (stdiolink_write_file_atomic(path, text, -1, mode, &local_error))
		return TRUE;
	g_warning("creating service: %s", local_error->message);
	g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL, "failed to write %s", name);
	return FALSE;
}

static gboolean
write_files(const char *dir, const StdiolinkServiceSpec *spec, GError **error)
{
	const Template *tmpl = find_template(spec->template_name);
	const char *index_js = spec->index_js != NULL ? spec->index_js : tmpl->index_js;
	g_autofree char *manifest = manifest_text(spec, tmpl);
	g_autofree char *schema = schema_text(spec, tmpl);

	if (!write_one(dir, "manifest.json", manifest, 0644, error))
		return FALSE;
	if (index_js != NULL && !write_one(dir, "index.js", index_js, 0644, error))
		return FALSE;
	if (tmpl->run != NULL && !write_one(dir, "run", tmpl->run, 0755, error))
		return FALSE;
	return write_one(dir, "config.schema.json", schema, 0644, error);
}

static gboolean
make_folder(const char *services_dir, const char *dir, GError **error)
{
	int saved;

	if (g_mkdir_with_parents(services_dir, 0755) == 0 && g_mkdir(dir, 0755) == 0)
		return TRUE;
	saved = errno;
	if (saved == EEXIST) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_CONFLICT,
				    "service directory already exists");
		return FALSE;
	}
	g_warning("creating service: cannot create %s: %s", dir, g_strerror(saved));
	g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
			    "failed to create service directory");
	return FALSE;
}

/**
 * stdiolink_service_create:
 * @services_dir: the data root's `services/` folder
 * @spec: what to create
 * @error: return location for a #GError
 *
 * Makes `services/<id>/` (%STDIOLINK_ERROR_CONFLICT `service directory already exists` if
 * anything has that name), writes `manifest.json`, `index.js` (or `run` for the `exec`
 * template) and `config.schema.json` atomically, and loads the folder as a service. On
 * any failure after the folder was made it is removed again; the messages are those of
 * http-api.md 4.2. Blocking I/O.
 *
 * Returns: (transfer full): the loaded service, or %NULL with @error set
 */
StdiolinkService *
stdiolink_service_create(const char *services_dir,
			 const StdiolinkServiceSpec *spec,
			 GError **error)
{
	g_autofree char *dir = NULL;
	g_autoptr(GError) load_error = NULL;
	StdiolinkService *svc;

	g_return_val_if_fail(services_dir != NULL, NULL);
	g_return_val_if_fail(spec != NULL && stdiolink_service_is_valid_new_id(spec->id), NULL);

	dir = g_build_filename(services_dir, spec->id, NULL);
	if (!make_folder(services_dir, dir, error))
		return NULL;
	if (!write_files(dir, spec, error)) {
		stdiolink_service_dir_remove(dir, NULL);
		return NULL;
	}
	svc = stdiolink_service_load(dir, &load_error);
	if (svc == NULL) {
		stdiolink_service_dir_remove(dir, NULL);
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
			    "failed to load created service: %s", load_error->message);
		return NULL;
	}
	return svc;
}
