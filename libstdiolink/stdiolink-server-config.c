#include "config.h"

#include <math.h>
#include <string.h>

#include "stdiolink-error.h"
#include "stdiolink-json.h"
#include "stdiolink-server-config.h"

/*
 * The earlier server read every number as a double and converted it with Qt's toInt(),
 * which yields 0 for a fraction or a value outside int32; the range checks then reject it.
 * Reproducing that conversion keeps the error texts identical for `80.5` or `1e10`.
 */

G_DEFINE_BOXED_TYPE(StdiolinkServerConfig,
		    stdiolink_server_config,
		    stdiolink_server_config_copy,
		    stdiolink_server_config_free)

#define DEFAULT_PORT 6200
#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_LOG_LEVEL "info"
#define DEFAULT_LOG_MAX_BYTES G_GINT64_CONSTANT(10485760)
#define DEFAULT_LOG_MAX_FILES 3
#define DEFAULT_STOP_GRACE_MS 5000
#define MIN_LOG_MAX_BYTES G_GINT64_CONSTANT(1048576)

/**
 * stdiolink_server_config_new_default:
 *
 * Creates a configuration holding the built-in defaults: port 6200, host `127.0.0.1`, log
 * level `info`, no service program, no CORS origin (same-origin only), default web console
 * folder, 10 MiB x 3 log files, a 5000 ms stop grace period, a stop timeout of the grace
 * period plus 2000 ms and no extra allowed hosts.
 *
 * Returns: (transfer full): a new #StdiolinkServerConfig
 */
StdiolinkServerConfig *
stdiolink_server_config_new_default(void)
{
	StdiolinkServerConfig *config = g_new0(StdiolinkServerConfig, 1);

	config->port = DEFAULT_PORT;
	config->host = g_strdup(DEFAULT_HOST);
	config->log_level = g_strdup(DEFAULT_LOG_LEVEL);
	config->service_program = g_strdup("");
	config->cors_origin = g_strdup("");
	config->webui_dir = g_strdup("");
	config->token_file = g_strdup("");
	config->log_max_bytes = DEFAULT_LOG_MAX_BYTES;
	config->log_max_files = DEFAULT_LOG_MAX_FILES;
	config->stop_grace_ms = DEFAULT_STOP_GRACE_MS;
	config->start_timeout_ms = 5000;
	config->scan_timeout_ms = 10000;
	config->allowed_hosts = g_new0(char *, 1);
	return config;
}

/**
 * stdiolink_server_config_copy:
 * @config: a #StdiolinkServerConfig
 *
 * Returns: (transfer full): a deep copy of @config
 */
StdiolinkServerConfig *
stdiolink_server_config_copy(const StdiolinkServerConfig *config)
{
	StdiolinkServerConfig *copy;

	g_return_val_if_fail(config != NULL, NULL);

	copy = g_new0(StdiolinkServerConfig, 1);
	*copy = *config;
	copy->host = g_strdup(config->host);
	copy->log_level = g_strdup(config->log_level);
	copy->service_program = g_strdup(config->service_program);
	copy->cors_origin = g_strdup(config->cors_origin);
	copy->webui_dir = g_strdup(config->webui_dir);
	copy->token_file = g_strdup(config->token_file);
	copy->allowed_hosts = g_strdupv(config->allowed_hosts);
	return copy;
}

static void
server_config_clear(StdiolinkServerConfig *config)
{
	g_free(config->host);
	g_free(config->log_level);
	g_free(config->service_program);
	g_free(config->cors_origin);
	g_free(config->webui_dir);
	g_free(config->token_file);
	g_strfreev(config->allowed_hosts);
	memset(config, 0, sizeof(*config));
}

/**
 * stdiolink_server_config_free:
 * @config: (nullable): a #StdiolinkServerConfig
 *
 * Frees @config and its strings.
 */
void
stdiolink_server_config_free(StdiolinkServerConfig *config)
{
	if (config == NULL)
		return;
	server_config_clear(config);
	g_free(config);
}

static gboolean
fail(GError **error, const char *message)
{
	g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST, message);
	return FALSE;
}

/* Qt's QJsonValue::toInt(): the value if it is integral and fits int32, else 0 */
static gint64
number_to_int(JsonNode *node)
{
	double value = stdiolink_json_node_get_number(node);

	if (value != trunc(value) || value < G_MININT32 || value > G_MAXINT32)
		return 0;
	return (gint64)value;
}

static gboolean
read_port(JsonNode *node, StdiolinkServerConfig *config, GError **error)
{
	gint64 port;

	if (!stdiolink_json_node_is_number(node))
		return fail(error, "config field 'port' must be an integer");
	port = number_to_int(node);
	if (port < 1 || port > 65535)
		return fail(error, "config field 'port' out of range");
	config->port = (guint)port;
	return TRUE;
}

static gboolean
read_host(JsonNode *node, StdiolinkServerConfig *config, GError **error)
{
	if (!stdiolink_json_node_is_string(node))
		return fail(error, "config field 'host' must be a string");
	if (*json_node_get_string(node) == '\0')
		return fail(error, "config field 'host' cannot be empty");
	g_free(config->host);
	config->host = g_strdup(json_node_get_string(node));
	return TRUE;
}

static gboolean
read_log_level(JsonNode *node, StdiolinkServerConfig *config, GError **error)
{
	static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
	const char *level;

	if (!stdiolink_json_node_is_string(node))
		return fail(error, "config field 'logLevel' must be a string");
	level = json_node_get_string(node);
	if (!g_strv_contains(levels, level)) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
			    "invalid config logLevel: %s", level);
		return FALSE;
	}
	g_free(config->log_level);
	config->log_level = g_strdup(level);
	return TRUE;
}

static gboolean
read_service_program(JsonNode *node, StdiolinkServerConfig *config, GError **error)
{
	if (!stdiolink_json_node_is_string(node))
		return fail(error, "config field 'serviceProgram' must be a string");
	g_free(config->service_program);
	config->service_program = g_strdup(json_node_get_string(node));
	return TRUE;
}

static gboolean
read_cors_origin(JsonNode *node, StdiolinkServerConfig *config, GError **error)
{
	/* absent means same-origin only; an explicit value must say which origin */
	if (!stdiolink_json_node_is_string(node))
		return fail(error, "config field 'corsOrigin' must be a string");
	if (*json_node_get_string(node) == '\0')
		return fail(error, "config field 'corsOrigin' cannot be empty");
	g_free(config->cors_origin);
	config->cors_origin = g_strdup(json_node_get_string(node));
	return TRUE;
}

static gboolean
read_webui_dir(JsonNode *node, StdiolinkServerConfig *config, GError **error)
{
	if (!stdiolink_json_node_is_string(node))
		return fail(error, "config field 'webuiDir' must be a string");
	g_free(config->webui_dir);
	config->webui_dir = g_strdup(json_node_get_string(node));
	return TRUE;
}

static gboolean
read_token_file(JsonNode *node, StdiolinkServerConfig *config, GError **error)
{
	if (!stdiolink_json_node_is_string(node))
		return fail(error, "config field 'tokenFile' must be a string");
	g_free(config->token_file);
	config->token_file = g_strdup(json_node_get_string(node));
	return TRUE;
}

static gboolean
read_log_max_bytes(JsonNode *node, StdiolinkServerConfig *config, GError **error)
{
	double value;

	if (!stdiolink_json_node_is_number(node))
		return fail(error, "config field 'logMaxBytes' must be a number");
	value = trunc(stdiolink_json_node_get_number(node));
	if (value < (double)MIN_LOG_MAX_BYTES)
		return fail(error, "config field 'logMaxBytes' must be >= 1048576 (1MB)");
	config->log_max_bytes = value >= 9.2e18 ? G_MAXINT64 : (gint64)value;
	return TRUE;
}

static gboolean
read_log_max_files(JsonNode *node, StdiolinkServerConfig *config, GError **error)
{
	gint64 files;

	if (!stdiolink_json_node_is_number(node))
		return fail(error, "config field 'logMaxFiles' must be a number");
	files = number_to_int(node);
	if (files < 1 || files > 100)
		return fail(error, "config field 'logMaxFiles' must be between 1 and 100");
	config->log_max_files = (guint)files;
	return TRUE;
}

/* an integral number of milliseconds or a count within [@min, @max] */
static gboolean
read_bounded_uint(JsonNode *node, const char *key, double min, double max, guint *out,
		  GError **error)
{
	double value;

	if (!stdiolink_json_node_is_number(node)) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
			    "config field '%s' must be an integer", key);
		return FALSE;
	}
	value = stdiolink_json_node_get_number(node);
	if (value != trunc(value) || value < min || value > max) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
			    "config field '%s' out of range", key);
		return FALSE;
	}
	*out = (guint)value;
	return TRUE;
}

static gboolean
read_stop_grace_ms(JsonNode *node, StdiolinkServerConfig *config, GError **error)
{
	return read_bounded_uint(node, "stopGraceMs", 0, G_MAXINT32, &config->stop_grace_ms,
				 error);
}

static gboolean
read_start_timeout_ms(JsonNode *node, StdiolinkServerConfig *config, GError **error)
{
	return read_bounded_uint(node, "startTimeoutMs", 0, G_MAXINT32,
				 &config->start_timeout_ms, error);
}

static gboolean
read_stop_timeout_ms(JsonNode *node, StdiolinkServerConfig *config, GError **error)
{
	return read_bounded_uint(node, "stopTimeoutMs", 1, G_MAXINT32, &config->stop_timeout_ms,
				 error);
}

static gboolean
read_scan_timeout_ms(JsonNode *node, StdiolinkServerConfig *config, GError **error)
{
	return read_bounded_uint(node, "scanTimeoutMs", 1, G_MAXINT32, &config->scan_timeout_ms,
				 error);
}

static gboolean
read_scan_parallelism(JsonNode *node, StdiolinkServerConfig *config, GError **error)
{
	return read_bounded_uint(node, "scanParallelism", 0, 1024, &config->scan_parallelism,
				 error);
}

static gboolean
read_allowed_hosts(JsonNode *node, StdiolinkServerConfig *config, GError **error)
{
	g_autoptr(GPtrArray) hosts = g_ptr_array_new_with_free_func(g_free);
	JsonArray *array;

	if (!JSON_NODE_HOLDS_ARRAY(node))
		return fail(error, "config field 'allowedHosts' must be an array of strings");
	array = json_node_get_array(node);
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonNode *element = json_array_get_element(array, i);

		if (!stdiolink_json_node_is_string(element))
			return fail(error,
				    "config field 'allowedHosts' must be an array of strings");
		if (*json_node_get_string(element) == '\0')
			return fail(error,
				    "config field 'allowedHosts' cannot contain an empty string");
		g_ptr_array_add(hosts, g_strdup(json_node_get_string(element)));
	}
	g_ptr_array_add(hosts, NULL);

	g_strfreev(config->allowed_hosts);
	config->allowed_hosts = (GStrv)g_ptr_array_steal(hosts, NULL);
	return TRUE;
}

typedef gboolean (*FieldReader)(JsonNode *node, StdiolinkServerConfig *config, GError **error);

/* the known keys, in the order the earlier server checked them */
static const struct {
	const char *key;
	FieldReader read;
} field_readers[] = {
	{"port", read_port},
	{"host", read_host},
	{"logLevel", read_log_level},
	{"serviceProgram", read_service_program},
	{"corsOrigin", read_cors_origin},
	{"webuiDir", read_webui_dir},
	{"tokenFile", read_token_file},
	{"logMaxBytes", read_log_max_bytes},
	{"logMaxFiles", read_log_max_files},
	{"stopGraceMs", read_stop_grace_ms},
	{"stopTimeoutMs", read_stop_timeout_ms},
	{"startTimeoutMs", read_start_timeout_ms},
	{"allowedHosts", read_allowed_hosts},
	{"scanTimeoutMs", read_scan_timeout_ms},
	{"scanParallelism", read_scan_parallelism},
};

static gboolean
is_known_key(const char *key)
{
	for (guint i = 0; i < G_N_ELEMENTS(field_readers); i++) {
		if (g_str_equal(field_readers[i].key, key))
			return TRUE;
	}
	return FALSE;
}

static gboolean
check_unknown_keys(JsonObject *object, GError **error)
{
	g_autoptr(GList) members = stdiolink_json_object_get_sorted_members(object);

	/* the first unknown key in code-point order, as the earlier server reported it */
	for (GList *l = members; l != NULL; l = l->next) {
		if (!is_known_key(l->data)) {
			g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
				    "unknown field in config.json: %s", (const char *)l->data);
			return FALSE;
		}
	}
	return TRUE;
}

static JsonNode *
read_config_file(const char *path, GError **error)
{
	g_autofree char *contents = NULL;
	g_autoptr(GError) local_error = NULL;
	g_autoptr(JsonNode) root = NULL;
	gsize length;

	if (!g_file_get_contents(path, &contents, &length, NULL)) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
			    "cannot open config file: %s", path);
		return NULL;
	}

	root = stdiolink_json_parse(contents, (gssize)length, &local_error);
	if (root == NULL) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
			    "config.json parse error: %s", local_error->message);
		return NULL;
	}
	if (!JSON_NODE_HOLDS_OBJECT(root)) {
		fail(error, "config.json must contain a JSON object");
		return NULL;
	}
	return g_steal_pointer(&root);
}

static void
server_config_take(StdiolinkServerConfig *config, StdiolinkServerConfig *source)
{
	server_config_clear(config);
	*config = *source;
	g_free(source);
}

/**
 * stdiolink_server_config_load:
 * @data_root: the data root folder
 * @config: the configuration to fill
 * @error: return location for a #GError
 *
 * Reads `<data_root>/config.json` (data-root.md section 4.1). A missing file means all
 * defaults. Unknown keys and invalid values are refused with the earlier server's messages
 * (%STDIOLINK_ERROR_BAD_REQUEST). On success @config holds the defaults overridden by the
 * file; on failure it is left unchanged. Command-line overrides are the caller's job.
 *
 * Returns: %TRUE on success
 */
gboolean
stdiolink_server_config_load(const char *data_root, StdiolinkServerConfig *config, GError **error)
{
	g_autofree char *path = NULL;
	g_autoptr(StdiolinkServerConfig) loaded = stdiolink_server_config_new_default();
	g_autoptr(JsonNode) root = NULL;
	JsonObject *object;

	g_return_val_if_fail(data_root != NULL, FALSE);
	g_return_val_if_fail(config != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	/* an absent file is not an error: every field keeps its default */
	path = g_build_filename(data_root, "config.json", NULL);
	if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
		server_config_take(config, g_steal_pointer(&loaded));
		return TRUE;
	}

	root = read_config_file(path, error);
	if (root == NULL)
		return FALSE;
	object = json_node_get_object(root);
	if (!check_unknown_keys(object, error))
		return FALSE;

	for (guint i = 0; i < G_N_ELEMENTS(field_readers); i++) {
		JsonNode *node = json_object_get_member(object, field_readers[i].key);

		if (node != NULL && !field_readers[i].read(node, loaded, error))
			return FALSE;
	}

	server_config_take(config, g_steal_pointer(&loaded));
	return TRUE;
}

static gboolean
is_executable_file(const char *path)
{
	return g_file_test(path, G_FILE_TEST_IS_REGULAR) &&
	       g_file_test(path, G_FILE_TEST_IS_EXECUTABLE);
}

static char *
find_configured_program(const char *program, const char *data_root)
{
	g_autofree char *absolute = g_canonicalize_filename(program, NULL);
	g_autofree char *in_root = NULL;

	if (is_executable_file(absolute))
		return g_steal_pointer(&absolute);

	/* the earlier server returned this concatenation as is, without normalizing it */
	if (g_path_is_absolute(program))
		return NULL;
	in_root = g_strconcat(data_root, "/", program, NULL);
	if (is_executable_file(in_root))
		return g_steal_pointer(&in_root);
	return NULL;
}

/**
 * stdiolink_server_config_find_service_program:
 * @config: the server configuration
 * @data_root: the absolute data root
 * @self_exe_dir: (nullable): the folder of the running daemon's executable
 *
 * Finds the program that runs JavaScript services (data-root.md section 9): the configured
 * `serviceProgram` (relative to the working directory, then to @data_root; no PATH search),
 * or if none is configured `stdiolink_service` next to the daemon, then on `PATH`.
 *
 * Returns: (transfer full) (nullable): the program path, or %NULL if there is none
 */
char *
stdiolink_server_config_find_service_program(const StdiolinkServerConfig *config,
					     const char *data_root,
					     const char *self_exe_dir)
{
	g_return_val_if_fail(config != NULL, NULL);
	g_return_val_if_fail(data_root != NULL, NULL);

	if (config->service_program != NULL && *config->service_program != '\0')
		return find_configured_program(config->service_program, data_root);

	if (self_exe_dir != NULL) {
		g_autofree char *beside = g_build_filename(self_exe_dir, "stdiolink_service",
							   NULL);

		if (is_executable_file(beside))
			return g_steal_pointer(&beside);
	}
	return g_find_program_in_path("stdiolink_service");
}
