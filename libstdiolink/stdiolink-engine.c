#include "config.h"

#include <sys/utsname.h>

#include "stdiolink-driver.h"
#include "stdiolink-engine.h"
#include "stdiolink-engine-private.h"
#include "stdiolink-error.h"
#include "stdiolink-json.h"
#include "stdiolink-process-info.h"
#include "stdiolink-project.h"
#include "stdiolink-schema.h"
#include "stdiolink-scheduler.h"
#include "stdiolink-service.h"
#include "stdiolink-util.h"

/*
 * The engine owns every piece of state the daemon serves: services, projects, drivers and
 * the instance manager. It lives on the thread that runs the main loop and is only changed
 * there; file reads and writes run in worker threads on private copies and are committed
 * back here in one step.
 */

/* after the grace period SIGKILL is sent; this is how long a killed process may take to go */
#define STOP_MARGIN_MS 2000

G_DEFINE_FINAL_TYPE(StdiolinkEngine, stdiolink_engine, G_TYPE_OBJECT)

static gboolean scheduled_start_cb(StdiolinkProject *snapshot, gpointer user_data, GError **error);

static void
stdiolink_engine_finalize(GObject *object)
{
	StdiolinkEngine *self = STDIOLINK_ENGINE(object);

	g_hash_table_unref(self->services);
	g_hash_table_unref(self->projects);
	g_hash_table_unref(self->drivers);
	g_hash_table_unref(self->busy);
	g_clear_object(&self->jobs);
	g_clear_object(&self->scheduler);
	g_clear_object(&self->process_monitor);
	g_clear_object(&self->instances);
	g_clear_object(&self->bus);
	g_clear_pointer(&self->config, stdiolink_server_config_free);
	g_clear_pointer(&self->started_at, g_date_time_unref);
	g_free(self->data_root);
	g_free(self->services_dir);
	g_free(self->projects_dir);
	g_free(self->drivers_dir);
	g_free(self->logs_dir);
	g_free(self->self_exe_dir);
	g_free(self->platform);
	G_OBJECT_CLASS(stdiolink_engine_parent_class)->finalize(object);
}

static void
stdiolink_engine_class_init(StdiolinkEngineClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = stdiolink_engine_finalize;
}

static void
stdiolink_engine_init(StdiolinkEngine *self)
{
	self->services = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
	self->projects = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
	self->drivers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
	self->busy = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->process_monitor = stdiolink_process_monitor_new();
	self->started_at = g_date_time_new_now_utc();
	self->started_mono_us = g_get_monotonic_time();
}

/**
 * stdiolink_engine_new:
 * @data_root: absolute path of the data root
 * @config: the effective server configuration (CLI overrides already applied)
 * @self_exe_dir: (nullable): folder of the daemon executable, for the service program lookup
 *
 * Returns: (transfer full): an engine with no services or projects; call
 *   stdiolink_engine_load_async() to read the data root
 */
StdiolinkEngine *
stdiolink_engine_new(const char *data_root,
		     const StdiolinkServerConfig *config,
		     const char *self_exe_dir)
{
	StdiolinkEngine *self = g_object_new(STDIOLINK_TYPE_ENGINE, NULL);
	g_autofree char *events_log = NULL;

	self->data_root = g_strdup(data_root);
	self->services_dir = g_build_filename(data_root, "services", NULL);
	self->projects_dir = g_build_filename(data_root, "projects", NULL);
	self->drivers_dir = g_build_filename(data_root, "drivers", NULL);
	self->logs_dir = g_build_filename(data_root, "logs", NULL);
	self->self_exe_dir = g_strdup(self_exe_dir);
	self->config = stdiolink_server_config_copy(config);

	events_log = g_build_filename(self->logs_dir, "events.jsonl", NULL);
	self->bus = stdiolink_event_bus_new(events_log);
	self->instances = stdiolink_instance_manager_new(self->bus,
							 data_root,
							 (guint)config->stop_grace_ms,
							 config->log_max_bytes,
							 (guint)config->log_max_files);
	stdiolink_instance_manager_set_start_timeout(self->instances, config->start_timeout_ms);
	self->scheduler = stdiolink_scheduler_new(self->instances, self->bus, scheduled_start_cb,
						  self);
	self->jobs = stdiolink_job_manager_new(self->bus);
	return self;
}

const char *
stdiolink_engine_get_data_root(StdiolinkEngine *self)
{
	return self->data_root;
}

const StdiolinkServerConfig *
stdiolink_engine_get_config(StdiolinkEngine *self)
{
	return self->config;
}

/* the keys of config.json that changed on disk but are only read at start-up */
static char *
restart_only_changes(const StdiolinkServerConfig *fresh, const StdiolinkServerConfig *config)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new();

	if (g_strcmp0(fresh->host, config->host) != 0)
		g_ptr_array_add(names, "host");
	if (fresh->port != config->port)
		g_ptr_array_add(names, "port");
	if (g_strcmp0(fresh->webui_dir, config->webui_dir) != 0)
		g_ptr_array_add(names, "webuiDir");
	if (g_strcmp0(fresh->service_program, config->service_program) != 0)
		g_ptr_array_add(names, "serviceProgram");
	if (fresh->log_max_bytes != config->log_max_bytes)
		g_ptr_array_add(names, "logMaxBytes");
	if (fresh->log_max_files != config->log_max_files)
		g_ptr_array_add(names, "logMaxFiles");
	if (fresh->stop_grace_ms != config->stop_grace_ms)
		g_ptr_array_add(names, "stopGraceMs");
	if (fresh->stop_timeout_ms != config->stop_timeout_ms)
		g_ptr_array_add(names, "stopTimeoutMs");
	if (fresh->start_timeout_ms != config->start_timeout_ms)
		g_ptr_array_add(names, "startTimeoutMs");
	if (names->len == 0)
		return NULL;
	g_ptr_array_add(names, NULL);
	return g_strjoinv(", ", (char **)names->pdata);
}

/**
 * stdiolink_engine_apply_reloaded_config:
 * @self: the engine
 * @fresh: configuration read again from disk (command-line overrides applied)
 *
 * Takes the settings that can change while serving: log level, CORS origin, allowed hosts,
 * token file and the driver scan's timeout and parallelism. Address, port, paths, limits
 * and timings need a restart; a change to them is logged, by name, and ignored.
 */
void
stdiolink_engine_apply_reloaded_config(StdiolinkEngine *self, const StdiolinkServerConfig *fresh)
{
	StdiolinkServerConfig *config = self->config;
	g_autofree char *ignored = restart_only_changes(fresh, config);

	if (ignored != NULL)
		g_message("config reload: %s take effect after a restart", ignored);

	g_free(config->log_level);
	config->log_level = g_strdup(fresh->log_level);
	g_free(config->cors_origin);
	config->cors_origin = g_strdup(fresh->cors_origin);
	g_free(config->token_file);
	config->token_file = g_strdup(fresh->token_file);
	g_strfreev(config->allowed_hosts);
	config->allowed_hosts = g_strdupv(fresh->allowed_hosts);

	/* read when the next driver scan starts */
	config->scan_timeout_ms = fresh->scan_timeout_ms;
	config->scan_parallelism = fresh->scan_parallelism;
}

/**
 * stdiolink_engine_get_event_bus:
 * @self: the engine
 *
 * Returns: (transfer none): the bus every event goes through
 */
StdiolinkEventBus *
stdiolink_engine_get_event_bus(StdiolinkEngine *self)
{
	return self->bus;
}

/**
 * stdiolink_engine_get_instance_manager:
 * @self: the engine
 *
 * Returns: (transfer none): the manager of the running instances
 */
StdiolinkInstanceManager *
stdiolink_engine_get_instance_manager(StdiolinkEngine *self)
{
	return self->instances;
}

/**
 * stdiolink_engine_get_process_monitor:
 * @self: the engine
 *
 * Returns: (transfer none): the CPU samples the process routes share
 */
StdiolinkProcessMonitor *
stdiolink_engine_get_process_monitor(StdiolinkEngine *self)
{
	return self->process_monitor;
}

/**
 * stdiolink_engine_has_project:
 * @self: the engine
 * @id: (nullable): a project id
 *
 * Returns: %TRUE if a project with this id is loaded
 */
gboolean
stdiolink_engine_has_project(StdiolinkEngine *self, const char *id)
{
	return id != NULL && g_hash_table_contains(self->projects, id);
}

/**
 * stdiolink_engine_set_listen_port:
 * @self: the engine
 * @port: the port the daemon really listens on
 *
 * With `--port=0` the kernel picks the port; the status reports the real one.
 */
void
stdiolink_engine_set_listen_port(StdiolinkEngine *self, guint port)
{
	self->listen_port = port;
}

/**
 * stdiolink_engine_set_main_loop_lag:
 * @self: the engine
 * @last_us: how late the last lag probe fired
 * @max_us: the worst lateness seen since start
 *
 * Stores the daemon's own measurement so that the status can report it.
 */
void
stdiolink_engine_set_main_loop_lag(StdiolinkEngine *self, gint64 last_us, gint64 max_us)
{
	self->lag_last_us = last_us;
	self->lag_max_us = max_us;
}

/* ---- helpers ----------------------------------------------------------------------- */

/**
 * stdiolink_engine_sorted_keys: (skip)
 * @table: a table keyed by id
 *
 * Returns: (transfer container): the ids of @table in code-point order, the order of
 *   every collection the API returns
 */
GPtrArray *
stdiolink_engine_sorted_keys(GHashTable *table)
{
	GPtrArray *keys = g_ptr_array_new();
	GHashTableIter iter;
	gpointer key;

	g_hash_table_iter_init(&iter, table);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		g_ptr_array_add(keys, key);
	stdiolink_sort_strings(keys);
	return keys;
}

static StdiolinkService *
lookup_service(StdiolinkEngine *self, const char *id, GError **error)
{
	StdiolinkService *svc = id != NULL ? g_hash_table_lookup(self->services, id) : NULL;

	if (svc == NULL)
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND,
				    "service not found");
	return svc;
}

static StdiolinkProject *
lookup_project(StdiolinkEngine *self, const char *id, GError **error)
{
	StdiolinkProject *project = id != NULL ? g_hash_table_lookup(self->projects, id) : NULL;

	if (project == NULL)
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND,
				    "project not found");
	return project;
}

static gboolean
check_not_busy(StdiolinkEngine *self, const char *id, GError **error)
{
	if (g_hash_table_contains(self->busy, id)) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_PROJECT_BUSY,
			    "project operation already in progress: %s", id);
		return FALSE;
	}
	return TRUE;
}

static JsonNode *
project_json(StdiolinkEngine *self, StdiolinkProject *project)
{
	const char *id = stdiolink_project_get_id(project);
	guint live = stdiolink_instance_manager_count_live(self->instances, id);

	return stdiolink_project_to_json(project, live);
}

static guint
count_projects_of(StdiolinkEngine *self, const char *service_id)
{
	GHashTableIter iter;
	gpointer value;
	guint n = 0;

	g_hash_table_iter_init(&iter, self->projects);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		if (g_strcmp0(stdiolink_project_get_service_id(value), service_id) == 0)
			n++;
	}
	return n;
}

/* validity of a project stored in the engine, against the services loaded now */
void
stdiolink_engine_validate_in_place(StdiolinkEngine *self, StdiolinkProject *project)
{
	StdiolinkService *svc =
	    g_hash_table_lookup(self->services, stdiolink_project_get_service_id(project));

	stdiolink_project_validate(project,
				   svc != NULL ? stdiolink_service_get_id(svc) : NULL,
				   svc != NULL ? stdiolink_service_get_schema(svc) : NULL);
}

/* (re-)arm one project's scheduling; nothing else is touched (DESIGN.md) */
void
stdiolink_engine_arm_project(StdiolinkEngine *self, StdiolinkProject *project)
{
	const char *service_id = stdiolink_project_get_service_id(project);

	stdiolink_scheduler_start_project(self->scheduler, project,
					  g_hash_table_contains(self->services, service_id));
}

/* a change that failed leaves the old version in memory: schedule that one again */
static void
rearm_current(StdiolinkEngine *self, const char *id)
{
	StdiolinkProject *project = g_hash_table_lookup(self->projects, id);

	if (project != NULL)
		stdiolink_engine_arm_project(self, project);
}

/* ---- server status ------------------------------------------------------------------ */

static JsonObject *
status_counts(StdiolinkEngine *self)
{
	JsonObject *counts = json_object_new();
	JsonObject *projects = json_object_new();
	JsonObject *instances = json_object_new();
	guint live = stdiolink_instance_manager_count_live(self->instances, NULL);
	guint valid = 0, enabled = 0, total = g_hash_table_size(self->projects);
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, self->projects);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		if (stdiolink_project_get_valid(value))
			valid++;
		if (stdiolink_project_get_enabled(value))
			enabled++;
	}
	json_object_set_int_member(projects, "total", total);
	json_object_set_int_member(projects, "valid", valid);
	json_object_set_int_member(projects, "invalid", total - valid);
	json_object_set_int_member(projects, "enabled", enabled);
	json_object_set_int_member(projects, "disabled", total - enabled);

	/* the earlier server counted starting instances as running; keep that */
	json_object_set_int_member(instances, "total", live);
	json_object_set_int_member(instances, "running", live);

	json_object_set_int_member(counts, "services", g_hash_table_size(self->services));
	json_object_set_object_member(counts, "projects", projects);
	json_object_set_object_member(counts, "instances", instances);
	json_object_set_int_member(counts, "drivers", g_hash_table_size(self->drivers));
	return counts;
}

/**
 * stdiolink_engine_get_status:
 * @self: the engine
 *
 * Returns: (transfer full): the body of `GET /api/server/status`
 */
JsonNode *
stdiolink_engine_get_status(StdiolinkEngine *self)
{
	JsonObject *root = json_object_new();
	JsonObject *system = json_object_new();
	JsonObject *loop = json_object_new();
	g_autofree char *started = stdiolink_time_to_iso8601(self->started_at, FALSE);
	g_autofree char *program = stdiolink_server_config_find_service_program(
	    self->config, self->data_root, self->self_exe_dir);
	gint64 uptime_ms = (g_get_monotonic_time() - self->started_mono_us) / 1000;

	json_object_set_string_member(root, "status", "ok");
	json_object_set_string_member(root, "version", PACKAGE_VERSION);
	json_object_set_int_member(root, "uptimeMs", uptime_ms);
	json_object_set_string_member(root, "startedAt", started);
	json_object_set_string_member(root, "host", self->config->host);
	json_object_set_int_member(root, "port",
				   self->listen_port != 0 ? self->listen_port : self->config->port);
	json_object_set_string_member(root, "dataRoot", self->data_root);
	json_object_set_string_member(root, "serviceProgram", program != NULL ? program : "");
	json_object_set_object_member(root, "counts", status_counts(self));

	json_object_set_string_member(system, "platform",
				      self->platform != NULL ? self->platform : "linux");
	json_object_set_int_member(system, "cpuCores", g_get_num_processors());
	json_object_set_object_member(root, "system", system);

	/* our own health figure: how late the main loop ran its probe timer */
	json_object_set_double_member(loop, "lagMs", self->lag_last_us / 1000.0);
	json_object_set_double_member(loop, "maxLagMs", self->lag_max_us / 1000.0);
	json_object_set_object_member(root, "mainLoop", loop);
	return stdiolink_json_node_new_object(root);
}

/* ---- services ---------------------------------------------------------------------- */

/**
 * stdiolink_engine_list_services:
 * @self: the engine
 *
 * Returns: (transfer full): `{"services": [...]}` in id order
 */
JsonNode *
stdiolink_engine_list_services(StdiolinkEngine *self)
{
	g_autoptr(GPtrArray) ids = stdiolink_engine_sorted_keys(self->services);
	JsonObject *root = json_object_new();
	JsonArray *list = json_array_new();

	for (guint i = 0; i < ids->len; i++) {
		StdiolinkService *svc = g_hash_table_lookup(self->services, ids->pdata[i]);
		guint n_projects = count_projects_of(self, ids->pdata[i]);

		json_array_add_element(list, stdiolink_service_to_list_json(svc, self->data_root,
									    n_projects));
	}
	json_object_set_array_member(root, "services", list);
	return stdiolink_json_node_new_object(root);
}

static GPtrArray *
project_ids_of(StdiolinkEngine *self, const char *service_id)
{
	g_autoptr(GPtrArray) ids = stdiolink_engine_sorted_keys(self->projects);
	GPtrArray *out = g_ptr_array_new();

	for (guint i = 0; i < ids->len; i++) {
		StdiolinkProject *project = g_hash_table_lookup(self->projects, ids->pdata[i]);

		if (g_strcmp0(stdiolink_project_get_service_id(project), service_id) == 0)
			g_ptr_array_add(out, ids->pdata[i]);
	}
	g_ptr_array_add(out, NULL);
	return out;
}

/**
 * stdiolink_engine_get_service:
 * @self: the engine
 * @id: a service id
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the service detail, or %NULL if unknown
 */
JsonNode *
stdiolink_engine_get_service(StdiolinkEngine *self, const char *id, GError **error)
{
	StdiolinkService *svc = lookup_service(self, id, error);
	g_autoptr(GPtrArray) projects = NULL;

	if (svc == NULL)
		return NULL;
	projects = project_ids_of(self, id);
	return stdiolink_service_to_detail_json(svc, self->data_root,
						(const char *const *)projects->pdata);
}

/* ---- services: the tables, for stdiolink-engine-services.c --------------------------- */

/**
 * stdiolink_engine_lookup_service:
 * @self: the engine
 * @id: (nullable): a service id
 *
 * Returns: (transfer none) (nullable): the service stored under @id
 */
StdiolinkService *
stdiolink_engine_lookup_service(StdiolinkEngine *self, const char *id)
{
	return id != NULL ? g_hash_table_lookup(self->services, id) : NULL;
}

/**
 * stdiolink_engine_put_service:
 * @self: the engine
 * @key: the id to store it under (a reload keeps the old key, http-api.md 4.11)
 * @svc: (nullable): the service, or %NULL to forget @key
 */
void
stdiolink_engine_put_service(StdiolinkEngine *self, const char *key, StdiolinkService *svc)
{
	if (svc == NULL) {
		g_hash_table_remove(self->services, key);
		return;
	}
	g_hash_table_replace(self->services, g_strdup(key), g_object_ref(svc));
}

/**
 * stdiolink_engine_get_service_project_ids:
 * @self: the engine
 * @service_id: a service id
 *
 * Returns: (transfer container) (element-type utf8): the ids of the projects using
 *   @service_id, in id order,
 *   %NULL-terminated; the strings belong to the engine
 */
GPtrArray *
stdiolink_engine_get_service_project_ids(StdiolinkEngine *self, const char *service_id)
{
	return project_ids_of(self, service_id);
}

/**
 * stdiolink_engine_invalidate_project:
 * @self: the engine
 * @id: a project id
 * @reason: the project's new error
 *
 * http-api.md 4.5 B: the project becomes invalid with @reason (its files are untouched),
 * its scheduling stops and its instances are told to stop.
 */
void
stdiolink_engine_invalidate_project(StdiolinkEngine *self, const char *id, const char *reason)
{
	StdiolinkProject *current = g_hash_table_lookup(self->projects, id);
	g_autoptr(StdiolinkProject) copy = NULL;
	g_autofree char *key = g_strdup(id); /* @id may be the table's key, freed below */

	if (current == NULL)
		return;
	copy = stdiolink_project_copy(current);
	stdiolink_project_set_invalid(copy, reason);
	g_hash_table_replace(self->projects, g_strdup(key), g_object_ref(copy));

	/* the scheduler keeps the invalid copy, then is told to leave the project alone */
	stdiolink_engine_arm_project(self, copy);
	stdiolink_scheduler_stop_project(self->scheduler, key);
	stdiolink_instance_manager_terminate_project(self->instances, key);
}

static JsonObject *
require_object_member(JsonObject *body, const char *member, GError **error)
{
	JsonObject *object = stdiolink_json_object_get_object(body, member);

	if (object == NULL)
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
			    "missing required object field: %s", member);
	return object;
}

/**
 * stdiolink_engine_validate_schema:
 * @self: the engine
 * @id: a service id (only checked for existence)
 * @body: the request body with a `schema` object
 * @error: return location for a #GError
 *
 * Returns: (transfer full): `{"valid":true,"fields":[...]}` (plus `warnings` when the schema
 *   has constructs that are accepted but ignored) or `{"valid":false,"error":...}`
 */
JsonNode *
stdiolink_engine_validate_schema(StdiolinkEngine *self,
				 const char *id,
				 JsonObject *body,
				 GError **error)
{
	JsonObject *schema_json;
	JsonObject *root;
	g_autoptr(StdiolinkSchema) schema = NULL;
	g_autoptr(GError) parse_error = NULL;
	const char *const *warnings;

	if (lookup_service(self, id, error) == NULL)
		return NULL;
	schema_json = require_object_member(body, "schema", error);
	if (schema_json == NULL)
		return NULL;

	root = json_object_new();
	schema = stdiolink_schema_new_from_json(schema_json, &parse_error);
	if (schema == NULL) {
		json_object_set_boolean_member(root, "valid", FALSE);
		json_object_set_string_member(root, "error", parse_error->message);
		return stdiolink_json_node_new_object(root);
	}
	json_object_set_boolean_member(root, "valid", TRUE);
	json_object_set_member(root, "fields", stdiolink_schema_to_json(schema));
	warnings = stdiolink_schema_get_warnings(schema);
	if (warnings != NULL && warnings[0] != NULL) {
		JsonArray *list = json_array_new();

		for (guint i = 0; warnings[i] != NULL; i++)
			json_array_add_string_element(list, warnings[i]);
		json_object_set_array_member(root, "warnings", list);
	}
	return stdiolink_json_node_new_object(root);
}

static JsonArray *
strv_to_array(GStrv strv)
{
	JsonArray *array = json_array_new();

	for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
		json_array_add_string_element(array, strv[i]);
	return array;
}

/**
 * stdiolink_engine_generate_defaults:
 * @self: the engine
 * @id: a service id
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the service's top-level defaults and its required and optional
 *   field names, in schema order
 */
JsonNode *
stdiolink_engine_generate_defaults(StdiolinkEngine *self, const char *id, GError **error)
{
	StdiolinkService *svc = lookup_service(self, id, error);
	StdiolinkSchema *schema;
	g_auto(GStrv) required = NULL;
	g_auto(GStrv) optional = NULL;
	JsonObject *root;

	if (svc == NULL)
		return NULL;
	schema = stdiolink_service_get_schema(svc);
	required = stdiolink_schema_get_required_fields(schema);
	optional = stdiolink_schema_get_optional_fields(schema);

	root = json_object_new();
	json_object_set_string_member(root, "serviceId", id);
	json_object_set_object_member(root, "config", stdiolink_schema_generate_defaults(schema));
	json_object_set_array_member(root, "requiredFields", strv_to_array(required));
	json_object_set_array_member(root, "optionalFields", strv_to_array(optional));
	return stdiolink_json_node_new_object(root);
}

/**
 * stdiolink_engine_validate_config:
 * @self: the engine
 * @id: a service id
 * @body: the request body with a `config` object
 * @error: return location for a #GError
 *
 * Validates exactly as a project's configuration is validated (defaults filled first), so
 * that this endpoint and project saves never disagree.
 *
 * Returns: (transfer full): the verdict, with `filledConfig` when valid
 */
JsonNode *
stdiolink_engine_validate_config(StdiolinkEngine *self,
				 const char *id,
				 JsonObject *body,
				 GError **error)
{
	StdiolinkService *svc = lookup_service(self, id, error);
	g_autoptr(StdiolinkValidation) result = NULL;
	JsonObject *config;
	JsonObject *root;
	JsonObject *entry;
	JsonArray *errors;

	if (svc == NULL)
		return NULL;
	config = require_object_member(body, "config", error);
	if (config == NULL)
		return NULL;

	result = stdiolink_schema_validate(stdiolink_service_get_schema(svc), config);
	root = json_object_new();
	json_object_set_boolean_member(root, "valid", result->valid);
	if (result->valid) {
		json_object_set_object_member(root, "filledConfig",
					      json_object_ref(result->filled));
		return stdiolink_json_node_new_object(root);
	}
	json_object_set_string_member(root, "errorField", result->error_field);
	json_object_set_string_member(root, "errorMessage", result->error_message);
	entry = json_object_new();
	json_object_set_string_member(entry, "field", result->error_field);
	json_object_set_string_member(entry, "message", result->error_message);
	errors = json_array_new();
	json_array_add_object_element(errors, entry);
	json_object_set_array_member(root, "errors", errors);
	return stdiolink_json_node_new_object(root);
}

/* live instances in id order, optionally of one project */
static JsonArray *
instances_array(StdiolinkEngine *self, const char *project_id)
{
	g_autoptr(GPtrArray) live = stdiolink_instance_manager_list(self->instances, project_id);
	JsonArray *list = json_array_new();

	for (guint i = 0; i < live->len; i++)
		json_array_add_element(list, stdiolink_instance_to_json(live->pdata[i], FALSE));
	return list;
}

/* ---- projects: queries -------------------------------------------------------------- */

static gboolean
project_matches(StdiolinkEngine *self, StdiolinkProject *project, const StdiolinkProjectQuery *q)
{
	const char *id = stdiolink_project_get_id(project);
	guint live = stdiolink_instance_manager_count_live(self->instances, id);

	if (q->service_id != NULL && *q->service_id != '\0' &&
	    g_strcmp0(q->service_id, stdiolink_project_get_service_id(project)) != 0)
		return FALSE;
	if (q->status != NULL && *q->status != '\0' &&
	    g_strcmp0(q->status, stdiolink_project_status(project, live)) != 0)
		return FALSE;
	/* as the earlier server: "true" selects enabled, any other value disabled */
	if (q->enabled != NULL && *q->enabled != '\0' &&
	    g_str_equal(q->enabled, "true") != stdiolink_project_get_enabled(project))
		return FALSE;
	return TRUE;
}

/**
 * stdiolink_engine_list_projects:
 * @self: the engine
 * @query: filters and paging
 *
 * Returns: (transfer full): `{"projects","total","page","pageSize"}`
 */
JsonNode *
stdiolink_engine_list_projects(StdiolinkEngine *self, const StdiolinkProjectQuery *query)
{
	g_autoptr(GPtrArray) ids = stdiolink_engine_sorted_keys(self->projects);
	JsonObject *root = json_object_new();
	JsonArray *list = json_array_new();
	gint64 first = ((gint64)query->page - 1) * query->page_size;
	gint64 total = 0;

	for (guint i = 0; i < ids->len; i++) {
		StdiolinkProject *project = g_hash_table_lookup(self->projects, ids->pdata[i]);

		if (!project_matches(self, project, query))
			continue;
		if (total >= first && total < first + query->page_size)
			json_array_add_element(list, project_json(self, project));
		total++;
	}
	json_object_set_array_member(root, "projects", list);
	json_object_set_int_member(root, "total", total);
	json_object_set_int_member(root, "page", query->page);
	json_object_set_int_member(root, "pageSize", query->page_size);
	return stdiolink_json_node_new_object(root);
}

/**
 * stdiolink_engine_get_project:
 * @self: the engine
 * @id: a project id
 * @error: return location for a #GError
 *
 * Returns: (transfer full): ProjectJSON with `instances` and the service's `configSchema`
 */
JsonNode *
stdiolink_engine_get_project(StdiolinkEngine *self, const char *id, GError **error)
{
	StdiolinkProject *project = lookup_project(self, id, error);
	StdiolinkService *svc;
	JsonNode *node;
	JsonObject *object;

	if (project == NULL)
		return NULL;
	node = project_json(self, project);
	object = json_node_get_object(node);
	json_object_set_array_member(object, "instances", instances_array(self, id));

	svc = g_hash_table_lookup(self->services, stdiolink_project_get_service_id(project));
	if (svc != NULL) {
		JsonObject *schema = stdiolink_service_get_raw_schema(svc);

		json_object_set_object_member(object, "configSchema", json_object_ref(schema));
	}
	return node;
}

/**
 * stdiolink_engine_validate_project:
 * @self: the engine
 * @id: a project id
 * @body: the request body; its optional `config` replaces the stored one for the check
 * @error: return location for a #GError
 *
 * Checks a copy; nothing is saved.
 *
 * Returns: (transfer full): `{"valid":true}` or `{"valid":false,"error":...}`
 */
JsonNode *
stdiolink_engine_validate_project(StdiolinkEngine *self,
				  const char *id,
				  JsonObject *body,
				  GError **error)
{
	StdiolinkProject *project = lookup_project(self, id, error);
	g_autoptr(StdiolinkProject) copy = NULL;
	JsonNode *config;
	JsonObject *root;

	if (project == NULL)
		return NULL;
	config = json_object_get_member(body, "config");
	if (config != NULL && !JSON_NODE_HOLDS_OBJECT(config)) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
				    "field 'config' must be an object");
		return NULL;
	}

	copy = stdiolink_project_copy(project);
	if (config != NULL)
		stdiolink_project_set_config(copy, json_node_get_object(config));
	stdiolink_engine_validate_in_place(self, copy);

	root = json_object_new();
	json_object_set_boolean_member(root, "valid", stdiolink_project_get_valid(copy));
	if (!stdiolink_project_get_valid(copy))
		json_object_set_string_member(root, "error", stdiolink_project_get_error(copy));
	return stdiolink_json_node_new_object(root);
}

/* ---- projects: mutations ------------------------------------------------------------- */

/*
 * A mutation holds the project's busy mark from the request until it completes, so a
 * second mutation of the same project meanwhile answers project_busy. File writes run in a
 * worker thread on a private copy; the in-memory table changes only when the files did.
 */

typedef enum {
	OP_CREATE,
	OP_UPDATE,
	OP_DELETE,
	OP_RELOAD,
	OP_SET_ENABLED,
} OpKind;

typedef struct _ProjectOp ProjectOp;

/* one change to a project's files, run in a worker thread; see run_file_op() */
typedef gboolean (*FileStepFunc)(ProjectOp *op, GError **error);

struct _ProjectOp {
	OpKind kind;
	char *id;
	char *projects_dir;
	guint stop_timeout_ms;
	StdiolinkProject *project; /* the new version (create, update) */
	StdiolinkProject *old;	   /* what to roll back to (update) */
	GError *stop_error;	   /* why the stop failed, kept while rolling back */
	FileStepFunc file_step;	   /* what the worker thread of run_file_op() does */
};

static void
project_op_free(ProjectOp *op)
{
	g_free(op->id);
	g_free(op->projects_dir);
	g_clear_object(&op->project);
	g_clear_object(&op->old);
	g_clear_error(&op->stop_error);
	g_free(op);
}

static GTask *
project_op_new(StdiolinkEngine *self,
	       OpKind kind,
	       const char *id,
	       GCancellable *cancellable,
	       GAsyncReadyCallback callback,
	       gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	ProjectOp *op = g_new0(ProjectOp, 1);

	op->kind = kind;
	op->id = g_strdup(id);
	op->projects_dir = g_strdup(self->projects_dir);
	op->stop_timeout_ms = self->config->stop_timeout_ms != 0
				  ? self->config->stop_timeout_ms
				  : self->config->stop_grace_ms + STOP_MARGIN_MS;
	g_task_set_task_data(task, op, (GDestroyNotify)project_op_free);
	g_task_set_source_tag(task, stdiolink_engine_project_op_finish);
	return task;
}

/* every exit path of a mutation goes through one of these two, which drop the mark */
static void
project_op_fail(GTask *task, GError *error)
{
	StdiolinkEngine *self = g_task_get_source_object(task);
	ProjectOp *op = g_task_get_task_data(task);

	g_hash_table_remove(self->busy, op->id);
	g_task_return_error(task, error);
}

static void
project_op_succeed(GTask *task, JsonNode *result)
{
	StdiolinkEngine *self = g_task_get_source_object(task);
	ProjectOp *op = g_task_get_task_data(task);

	g_hash_table_remove(self->busy, op->id);
	g_task_return_pointer(task, result, (GDestroyNotify)json_node_unref);
}

/* the file steps: write the new version, write the old one back, delete the folder */

static gboolean
save_new_files(ProjectOp *op, GError **error)
{
	return stdiolink_project_save(op->project, op->projects_dir, error);
}

static gboolean
save_old_files(ProjectOp *op, GError **error)
{
	return stdiolink_project_save(op->old, op->projects_dir, error);
}

/* a project whose folder was already removed by hand can still be deleted */
static gboolean
remove_files(ProjectOp *op, GError **error)
{
	g_autoptr(GError) local_error = NULL;

	if (stdiolink_project_remove(op->projects_dir, op->id, &local_error))
		return TRUE;
	if (g_error_matches(local_error, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND))
		return TRUE;
	g_propagate_error(error, g_steal_pointer(&local_error));
	return FALSE;
}

/* worker thread: run the op's file step and hand its outcome back */
static void
file_step_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	ProjectOp *op = task_data;
	GError *error = NULL;

	if (!op->file_step(op, &error)) {
		g_task_return_error(task, error);
		return;
	}
	g_task_return_boolean(task, TRUE);
}

/*
 * Run @step in a worker thread on the outer task's op; @done gets the outer task back.
 * The inner task shares the op but does not own it. One step runs at a time per op.
 */
static void
run_file_op(GTask *task, FileStepFunc step, GAsyncReadyCallback done)
{
	StdiolinkEngine *self = g_task_get_source_object(task);
	g_autoptr(GTask) inner = g_task_new(self, NULL, done, g_object_ref(task));
	ProjectOp *op = g_task_get_task_data(task);

	op->file_step = step;
	g_task_set_task_data(inner, op, NULL);
	g_task_run_in_thread(inner, file_step_thread);
}

/*
 * http-api.md 1.7: stop the project's scheduling (timer off, restarts suppressed), stop
 * its instances and wait for them without blocking; @done gets @task (transfer full).
 */
static void
stop_and_wait(GTask *task, GAsyncReadyCallback done)
{
	StdiolinkEngine *self = g_task_get_source_object(task);
	ProjectOp *op = g_task_get_task_data(task);

	stdiolink_scheduler_stop_project(self->scheduler, op->id);
	stdiolink_instance_manager_stop_project_async(self->instances, op->id, op->stop_timeout_ms,
						      NULL, done, task);
}

static StdiolinkProject *
parse_and_validate(StdiolinkEngine *self, const char *id, JsonObject *body, GError **error)
{
	g_autoptr(StdiolinkProject) project = NULL;

	project = stdiolink_project_new_from_json(id, body, TRUE, error);
	if (project == NULL)
		return NULL;
	stdiolink_engine_validate_in_place(self, project);
	if (!stdiolink_project_get_valid(project)) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
			    "project invalid: %s", stdiolink_project_get_error(project));
		return NULL;
	}
	return g_steal_pointer(&project);
}

static void
create_saved_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	StdiolinkEngine *self = STDIOLINK_ENGINE(source);
	g_autoptr(GTask) task = user_data;
	ProjectOp *op = g_task_get_task_data(task);
	GError *error = NULL;

	if (!g_task_propagate_boolean(G_TASK(res), &error)) {
		project_op_fail(task, error);
		return;
	}
	g_hash_table_insert(self->projects, g_strdup(op->id), g_object_ref(op->project));
	stdiolink_engine_arm_project(self, op->project);
	g_message("project %s created", op->id);
	project_op_succeed(task, project_json(self, op->project));
}

/**
 * stdiolink_engine_create_project_async:
 * @self: the engine
 * @body: the request body (ProjectJSON fields with `id`)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the files are written (or the request is refused)
 * @user_data: for @callback
 *
 * Parses and validates the project, writes its files atomically, adds it and arms its
 * scheduling (an enabled daemon starts at once). Finish with
 * stdiolink_engine_project_op_finish(), which returns the new ProjectJSON.
 */
void
stdiolink_engine_create_project_async(StdiolinkEngine *self,
				      JsonObject *body,
				      GCancellable *cancellable,
				      GAsyncReadyCallback callback,
				      gpointer user_data)
{
	const char *id = stdiolink_json_object_get_string(body, "id");
	g_autoptr(GTask) task = project_op_new(self, OP_CREATE, id, cancellable, callback,
					       user_data);
	ProjectOp *op = g_task_get_task_data(task);
	GError *error = NULL;

	if (id == NULL) {
		g_task_return_new_error(task, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
					"missing required string field: id");
		return;
	}
	if (!stdiolink_is_valid_project_id(id)) {
		g_task_return_new_error(task, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
					"invalid project id");
		return;
	}
	if (g_hash_table_contains(self->projects, id)) {
		g_task_return_new_error(task, STDIOLINK_ERROR, STDIOLINK_ERROR_CONFLICT,
					"project already exists");
		return;
	}
	if (!check_not_busy(self, id, &error)) {
		g_task_return_error(task, error);
		return;
	}
	op->project = parse_and_validate(self, id, body, &error);
	if (op->project == NULL) {
		g_task_return_error(task, error);
		return;
	}

	g_hash_table_add(self->busy, g_strdup(id));
	run_file_op(task, save_new_files, create_saved_cb);
}

static void
update_rolled_back_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	ProjectOp *op = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;

	rearm_current(STDIOLINK_ENGINE(source), op->id);
	if (!g_task_propagate_boolean(G_TASK(res), &error)) {
		project_op_fail(task, g_error_new(STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
						  "rollback failed: %s", error->message));
		return;
	}
	project_op_fail(task, g_steal_pointer(&op->stop_error));
}

static void
update_stopped_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	StdiolinkEngine *self = g_task_get_source_object(task);
	ProjectOp *op = g_task_get_task_data(task);

	if (!stdiolink_instance_manager_stop_project_finish(STDIOLINK_INSTANCE_MANAGER(source), res,
							    &op->stop_error)) {
		/* the new files are on disk but the old instances live on: put the old back */
		g_warning("project %s: %s; restoring its previous files", op->id,
			  op->stop_error->message);
		run_file_op(task, save_old_files, update_rolled_back_cb);
		return;
	}
	g_hash_table_replace(self->projects, g_strdup(op->id), g_object_ref(op->project));
	stdiolink_engine_arm_project(self, op->project);
	g_message("project %s updated", op->id);
	project_op_succeed(task, project_json(self, op->project));
}

static void
update_saved_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	GError *error = NULL;

	if (!g_task_propagate_boolean(G_TASK(res), &error)) {
		project_op_fail(task, error);
		return;
	}
	stop_and_wait(g_steal_pointer(&task), update_stopped_cb);
}

/**
 * stdiolink_engine_update_project_async:
 * @self: the engine
 * @id: the project id from the path
 * @body: the full new project (a replacement, not a patch)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * Saves the new files, stops the project's scheduling and instances and waits for them to
 * exit, then re-arms the project with its new settings; if they do not exit in time the
 * old files are written back, the old version is re-armed and the update fails with
 * %STDIOLINK_ERROR_TERMINATE_TIMEOUT.
 */
void
stdiolink_engine_update_project_async(StdiolinkEngine *self,
				      const char *id,
				      JsonObject *body,
				      GCancellable *cancellable,
				      GAsyncReadyCallback callback,
				      gpointer user_data)
{
	g_autoptr(GTask) task = project_op_new(self, OP_UPDATE, id, cancellable, callback,
					       user_data);
	ProjectOp *op = g_task_get_task_data(task);
	StdiolinkProject *current;
	JsonNode *body_id;
	GError *error = NULL;

	current = lookup_project(self, id, &error);
	if (current == NULL || !check_not_busy(self, id, &error)) {
		g_task_return_error(task, error);
		return;
	}
	body_id = json_object_get_member(body, "id");
	if (stdiolink_json_node_is_string(body_id) &&
	    g_strcmp0(json_node_get_string(body_id), id) != 0) {
		g_task_return_new_error(task, STDIOLINK_ERROR, STDIOLINK_ERROR_CONFLICT,
					"project id mismatch");
		return;
	}
	op->project = parse_and_validate(self, id, body, &error);
	if (op->project == NULL) {
		g_task_return_error(task, error);
		return;
	}
	op->old = stdiolink_project_copy(current);

	g_hash_table_add(self->busy, g_strdup(id));
	run_file_op(task, save_new_files, update_saved_cb);
}

static void
delete_removed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	StdiolinkEngine *self = STDIOLINK_ENGINE(source);
	g_autoptr(GTask) task = user_data;
	ProjectOp *op = g_task_get_task_data(task);
	GError *error = NULL;

	if (!g_task_propagate_boolean(G_TASK(res), &error)) {
		rearm_current(self, op->id);
		project_op_fail(task, error);
		return;
	}
	g_hash_table_remove(self->projects, op->id);
	stdiolink_scheduler_remove_project(self->scheduler, op->id);
	g_message("project %s deleted", op->id);
	project_op_succeed(task, NULL);
}

static void
delete_stopped_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	ProjectOp *op = g_task_get_task_data(task);
	GError *error = NULL;

	if (!stdiolink_instance_manager_stop_project_finish(STDIOLINK_INSTANCE_MANAGER(source), res,
							    &error)) {
		rearm_current(g_task_get_source_object(task), op->id);
		project_op_fail(task, error);
		return;
	}
	run_file_op(task, remove_files, delete_removed_cb);
}

/**
 * stdiolink_engine_delete_project_async:
 * @self: the engine
 * @id: the project id
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * Stops the project's scheduling and instances, waits for them without blocking, then
 * removes the project's folder (its log file is kept). Finishes with a %NULL node on
 * success; on failure the project stays and is re-armed.
 */
void
stdiolink_engine_delete_project_async(StdiolinkEngine *self,
				      const char *id,
				      GCancellable *cancellable,
				      GAsyncReadyCallback callback,
				      gpointer user_data)
{
	g_autoptr(GTask) task = project_op_new(self, OP_DELETE, id, cancellable, callback,
					       user_data);
	GError *error = NULL;

	if (lookup_project(self, id, &error) == NULL || !check_not_busy(self, id, &error)) {
		g_task_return_error(task, error);
		return;
	}

	g_hash_table_add(self->busy, g_strdup(id));
	stop_and_wait(g_steal_pointer(&task), delete_stopped_cb);
}

/**
 * stdiolink_engine_project_op_finish:
 * @self: the engine
 * @res: the result given to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the ProjectJSON after create or update; %NULL after
 *   a delete, or on error with @error set
 */
JsonNode *
stdiolink_engine_project_op_finish(StdiolinkEngine *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

/* ---- projects: start and stop ---------------------------------------------------------- */

static gboolean
check_can_start(StdiolinkEngine *self, StdiolinkProject *project, gboolean *noop, GError **error)
{
	const StdiolinkSchedule *schedule = stdiolink_project_get_schedule(project);
	guint live = stdiolink_instance_manager_count_live(self->instances,
							   stdiolink_project_get_id(project));

	*noop = FALSE;
	if (!stdiolink_project_get_valid(project)) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
			    "project invalid: %s", stdiolink_project_get_error(project));
		return FALSE;
	}
	if (!g_hash_table_contains(self->services, stdiolink_project_get_service_id(project))) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
				    "service not found");
		return FALSE;
	}
	switch (schedule->type) {
	case STDIOLINK_SCHEDULE_FIXED_RATE:
		if (live >= (guint)schedule->max_concurrent) {
			g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_CONFLICT,
					    "max concurrent reached");
			return FALSE;
		}
		break;
	case STDIOLINK_SCHEDULE_DAEMON:
		*noop = live > 0;
		break;
	case STDIOLINK_SCHEDULE_MANUAL:
	default:
		if (live > 0) {
			g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_CONFLICT,
					    "already running");
			return FALSE;
		}
		break;
	}
	return TRUE;
}

static StdiolinkInstance *
launch(StdiolinkEngine *self, StdiolinkProject *project, GError **error)
{
	StdiolinkService *svc =
	    g_hash_table_lookup(self->services, stdiolink_project_get_service_id(project));
	g_autofree char *program = NULL;
	g_autofree char *config_json = NULL;
	StdiolinkLaunchSpec spec = {0};

	if (stdiolink_service_is_native(svc)) {
		program = g_strdup(stdiolink_service_get_entry_path(svc));
	} else {
		program = stdiolink_server_config_find_service_program(self->config,
								       self->data_root,
								       self->self_exe_dir);
		if (program == NULL) {
			g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_START_FAILED,
					    "stdiolink_service not found");
			return NULL;
		}
	}
	config_json = stdiolink_json_object_to_string(stdiolink_project_get_config(project),
						      STDIOLINK_JSON_COMPACT);

	spec.project_id = stdiolink_project_get_id(project);
	spec.service_id = stdiolink_service_get_id(svc);
	spec.program = program;
	spec.service_dir = stdiolink_service_get_dir(svc);
	spec.config_json = config_json;
	spec.native = stdiolink_service_is_native(svc);
	spec.data_root = self->data_root;
	spec.run_timeout_ms = (guint)stdiolink_project_get_schedule(project)->run_timeout_ms;
	return stdiolink_instance_manager_start(self->instances, &spec, error);
}

/**
 * stdiolink_engine_start_project:
 * @self: the engine
 * @id: a project id
 * @error: return location for a #GError
 *
 * Starts one instance by hand. Returns at once: the instance is `starting` and its
 * `instance.started` or `instance.startFailed` event follows. Disabled projects may be
 * started by hand; a daemon project that already runs is left alone. A start lifts the
 * project's restart suppression and clears its failure counter (a stopped fixed_rate
 * timer stays off).
 *
 * Returns: (transfer full): `{"started":true,"instanceId","status"}` or `{"noop":true}`
 */
JsonNode *
stdiolink_engine_start_project(StdiolinkEngine *self, const char *id, GError **error)
{
	StdiolinkProject *project;
	StdiolinkInstance *instance;
	JsonObject *root;
	gboolean noop = FALSE;

	if (!check_not_busy(self, id, error))
		return NULL;
	project = lookup_project(self, id, error);
	if (project == NULL || !check_can_start(self, project, &noop, error))
		return NULL;

	root = json_object_new();
	if (noop) {
		json_object_set_boolean_member(root, "noop", TRUE);
		return stdiolink_json_node_new_object(root);
	}
	/* a start by hand lifts a crash-loop suppression; a stopped timer stays off */
	stdiolink_scheduler_resume_project(self->scheduler, id);
	instance = launch(self, project, error);
	if (instance == NULL) {
		json_object_unref(root);
		return NULL;
	}
	g_info("project %s: instance %s starting", id, stdiolink_instance_get_id(instance));
	json_object_set_boolean_member(root, "started", TRUE);
	json_object_set_string_member(root, "instanceId", stdiolink_instance_get_id(instance));
	json_object_set_string_member(
	    root, "status",
	    stdiolink_instance_state_to_string(stdiolink_instance_get_state(instance)));
	return stdiolink_json_node_new_object(root);
}

/**
 * stdiolink_engine_stop_project:
 * @self: the engine
 * @id: a project id
 * @error: return location for a #GError
 *
 * Turns the project's timer off and suppresses its restarts, asks every live instance to
 * stop (SIGTERM, then SIGKILL after the grace period) and answers at once, without waiting
 * for the exits.
 *
 * Returns: (transfer full): `{"stopped":true}`
 */
JsonNode *
stdiolink_engine_stop_project(StdiolinkEngine *self, const char *id, GError **error)
{
	JsonObject *root;
	guint n;

	if (lookup_project(self, id, error) == NULL || !check_not_busy(self, id, error))
		return NULL;
	stdiolink_scheduler_stop_project(self->scheduler, id);
	n = stdiolink_instance_manager_terminate_project(self->instances, id);
	g_info("project %s: stopping %u instance(s)", id, n);

	root = json_object_new();
	json_object_set_boolean_member(root, "stopped", TRUE);
	return stdiolink_json_node_new_object(root);
}

/* ---- projects: scheduling, reload, enable, runtime --------------------------------- */

/* how the scheduler starts an instance: its copy of the project, the service as loaded */
static gboolean
scheduled_start_cb(StdiolinkProject *snapshot, gpointer user_data, GError **error)
{
	StdiolinkEngine *self = user_data;

	if (!g_hash_table_contains(self->services, stdiolink_project_get_service_id(snapshot))) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_START_FAILED,
				    "service not found");
		return FALSE;
	}
	return launch(self, snapshot, error) != NULL;
}

/* worker thread: read the project's files as they are on disk now */
static gboolean
load_files(ProjectOp *op, GError **error)
{
	g_autofree char *dir = g_build_filename(op->projects_dir, op->id, NULL);
	g_autoptr(StdiolinkProject) project = NULL;

	if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND,
				    "project not found");
		return FALSE;
	}
	project = stdiolink_project_load(op->projects_dir, op->id);
	if (stdiolink_project_is_load_error(project)) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
				    stdiolink_project_get_error(project));
		return FALSE;
	}
	op->project = g_steal_pointer(&project);
	return TRUE;
}

static void
reload_stopped_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	StdiolinkEngine *self = g_task_get_source_object(task);
	ProjectOp *op = g_task_get_task_data(task);
	GError *error = NULL;

	if (!stdiolink_instance_manager_stop_project_finish(STDIOLINK_INSTANCE_MANAGER(source), res,
							    &error)) {
		rearm_current(self, op->id);
		project_op_fail(task, error);
		return;
	}
	g_hash_table_replace(self->projects, g_strdup(op->id), g_object_ref(op->project));
	stdiolink_engine_arm_project(self, op->project);
	g_message("project %s reloaded", op->id);
	project_op_succeed(task, project_json(self, op->project));
}

static void
reload_loaded_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	StdiolinkEngine *self = STDIOLINK_ENGINE(source);
	g_autoptr(GTask) task = user_data;
	ProjectOp *op = g_task_get_task_data(task);
	GError *error = NULL;

	if (!g_task_propagate_boolean(G_TASK(res), &error)) {
		project_op_fail(task, error);
		return;
	}
	stdiolink_engine_validate_in_place(self, op->project);
	if (!stdiolink_project_get_valid(op->project)) {
		project_op_fail(task, g_error_new(STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
						  "project invalid: %s",
						  stdiolink_project_get_error(op->project)));
		return;
	}
	stop_and_wait(g_steal_pointer(&task), reload_stopped_cb);
}

/**
 * stdiolink_engine_reload_project_async:
 * @self: the engine
 * @id: the project id; the project need not be loaded yet
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * Reads `projects/<id>/` again (a folder made by hand is imported), validates it, stops
 * the project's scheduling and instances, waits for them, then puts the new version in
 * place and re-arms it. Finish with stdiolink_engine_project_op_finish() (ProjectJSON).
 * Errors: busy, `invalid project id: <id>`, `project not found` when the folder is
 * missing, the load error, `project invalid: <error>`, or
 * %STDIOLINK_ERROR_TERMINATE_TIMEOUT (the old version stays and is re-armed).
 */
void
stdiolink_engine_reload_project_async(StdiolinkEngine *self,
				      const char *id,
				      GCancellable *cancellable,
				      GAsyncReadyCallback callback,
				      gpointer user_data)
{
	g_autoptr(GTask) task = project_op_new(self, OP_RELOAD, id, cancellable, callback,
					       user_data);
	GError *error = NULL;

	/* the busy check comes first, as for start */
	if (!check_not_busy(self, id, &error)) {
		g_task_return_error(task, error);
		return;
	}
	if (!stdiolink_is_valid_project_id(id)) {
		g_task_return_new_error(task, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
					"invalid project id: %s", id);
		return;
	}

	g_hash_table_add(self->busy, g_strdup(id));
	run_file_op(task, load_files, reload_loaded_cb);
}

static void
enabled_commit(StdiolinkEngine *self, GTask *task)
{
	ProjectOp *op = g_task_get_task_data(task);
	gboolean enabled = stdiolink_project_get_enabled(op->project);

	g_hash_table_replace(self->projects, g_strdup(op->id), g_object_ref(op->project));

	/*
	 * Enabling arms the project. Disabling also replaces the scheduler's copy, so a
	 * disabled daemon started by hand is not restarted after it crashes, and leaves the
	 * project suppressed, as its runtime shows.
	 */
	stdiolink_engine_arm_project(self, op->project);
	if (!enabled)
		stdiolink_scheduler_stop_project(self->scheduler, op->id);
	g_message("project %s %s", op->id, enabled ? "enabled" : "disabled");
	project_op_succeed(task, project_json(self, op->project));
}

static void
enabled_stopped_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	StdiolinkEngine *self = g_task_get_source_object(task);
	ProjectOp *op = g_task_get_task_data(task);

	if (!stdiolink_instance_manager_stop_project_finish(STDIOLINK_INSTANCE_MANAGER(source), res,
							    &op->stop_error)) {
		g_warning("project %s: %s; restoring its previous files", op->id,
			  op->stop_error->message);
		run_file_op(task, save_old_files, update_rolled_back_cb);
		return;
	}
	enabled_commit(self, task);
}

static void
enabled_saved_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	StdiolinkEngine *self = STDIOLINK_ENGINE(source);
	g_autoptr(GTask) task = user_data;
	ProjectOp *op = g_task_get_task_data(task);
	GError *error = NULL;

	if (!g_task_propagate_boolean(G_TASK(res), &error)) {
		project_op_fail(task, error);
		return;
	}
	if (stdiolink_project_get_enabled(op->project)) {
		enabled_commit(self, task);
		return;
	}
	stop_and_wait(g_steal_pointer(&task), enabled_stopped_cb);
}

/**
 * stdiolink_engine_set_project_enabled_async:
 * @self: the engine
 * @id: the project id
 * @body: the request body, `{"enabled": bool}`
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * Saves the project with the new `enabled` (even when it does not change). Disabling then
 * stops its scheduling and instances and waits (if they do not go in time the old file is
 * written back and the call fails with %STDIOLINK_ERROR_TERMINATE_TIMEOUT); enabling
 * re-arms this project only. Finish with stdiolink_engine_project_op_finish().
 */
void
stdiolink_engine_set_project_enabled_async(StdiolinkEngine *self,
					   const char *id,
					   JsonObject *body,
					   GCancellable *cancellable,
					   GAsyncReadyCallback callback,
					   gpointer user_data)
{
	g_autoptr(GTask) task = project_op_new(self, OP_SET_ENABLED, id, cancellable, callback,
					       user_data);
	ProjectOp *op = g_task_get_task_data(task);
	StdiolinkProject *current;
	JsonNode *enabled;
	GError *error = NULL;

	current = lookup_project(self, id, &error);
	if (current == NULL || !check_not_busy(self, id, &error)) {
		g_task_return_error(task, error);
		return;
	}
	enabled = json_object_get_member(body, "enabled");
	if (!stdiolink_json_node_is_bool(enabled)) {
		g_task_return_new_error(task, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
					"field 'enabled' is required and must be a bool");
		return;
	}
	op->old = stdiolink_project_copy(current);
	op->project = stdiolink_project_copy(current);
	stdiolink_project_set_enabled(op->project, json_node_get_boolean(enabled));

	g_hash_table_add(self->busy, g_strdup(id));
	run_file_op(task, save_new_files, enabled_saved_cb);
}

static JsonNode *
runtime_json(StdiolinkEngine *self, StdiolinkProject *project)
{
	const char *id = stdiolink_project_get_id(project);
	const char *error = stdiolink_project_get_error(project);
	guint live = stdiolink_instance_manager_count_live(self->instances, id);
	JsonObject *root = json_object_new();

	json_object_set_string_member(root, "id", id);
	json_object_set_boolean_member(root, "enabled", stdiolink_project_get_enabled(project));
	json_object_set_boolean_member(root, "valid", stdiolink_project_get_valid(project));
	if (error != NULL && *error != '\0')
		json_object_set_string_member(root, "error", error);
	json_object_set_string_member(root, "status", stdiolink_project_status(project, live));
	json_object_set_int_member(root, "runningInstances", live);
	json_object_set_array_member(root, "instances", instances_array(self, id));
	json_object_set_member(root, "schedule",
			       stdiolink_scheduler_runtime_to_json(self->scheduler, project));
	return stdiolink_json_node_new_object(root);
}

/**
 * stdiolink_engine_get_project_runtime:
 * @self: the engine
 * @id: a project id
 * @error: return location for a #GError
 *
 * Returns: (transfer full): RuntimeJSON (http-api.md 1.5), or %NULL if unknown
 */
JsonNode *
stdiolink_engine_get_project_runtime(StdiolinkEngine *self, const char *id, GError **error)
{
	StdiolinkProject *project = lookup_project(self, id, error);

	return project != NULL ? runtime_json(self, project) : NULL;
}

/**
 * stdiolink_engine_list_project_runtimes:
 * @self: the engine
 * @ids: (nullable): comma-separated project ids; empty parts are dropped, unknown ids
 *   ignored; %NULL or nothing left means every project
 *
 * Returns: (transfer full): `{"runtimes":[RuntimeJSON...]}` in project id order
 */
JsonNode *
stdiolink_engine_list_project_runtimes(StdiolinkEngine *self, const char *ids)
{
	g_autoptr(GHashTable) wanted = g_hash_table_new(g_str_hash, g_str_equal);
	g_auto(GStrv) parts = g_strsplit(ids != NULL ? ids : "", ",", -1);
	g_autoptr(GPtrArray) keys = stdiolink_engine_sorted_keys(self->projects);
	JsonObject *root = json_object_new();
	JsonArray *list = json_array_new();

	for (guint i = 0; parts[i] != NULL; i++) {
		if (*parts[i] != '\0')
			g_hash_table_add(wanted, parts[i]);
	}
	for (guint i = 0; i < keys->len; i++) {
		StdiolinkProject *project = g_hash_table_lookup(self->projects, keys->pdata[i]);

		if (g_hash_table_size(wanted) > 0 && !g_hash_table_contains(wanted, keys->pdata[i]))
			continue;
		json_array_add_element(list, runtime_json(self, project));
	}
	json_object_set_array_member(root, "runtimes", list);
	return stdiolink_json_node_new_object(root);
}

/* ---- instances ----------------------------------------------------------------------- */

/**
 * stdiolink_engine_list_instances:
 * @self: the engine
 * @project_id: (nullable): keep only this project's instances when non-empty
 *
 * Returns: (transfer full): `{"instances":[...]}` ordered by instance id
 */
JsonNode *
stdiolink_engine_list_instances(StdiolinkEngine *self, const char *project_id)
{
	JsonObject *root = json_object_new();

	if (project_id != NULL && *project_id == '\0')
		project_id = NULL;
	json_object_set_array_member(root, "instances", instances_array(self, project_id));
	return stdiolink_json_node_new_object(root);
}

static StdiolinkInstance *
lookup_instance(StdiolinkEngine *self, const char *id, GError **error)
{
	StdiolinkInstance *instance = stdiolink_instance_manager_lookup(self->instances, id);

	if (instance == NULL)
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND,
				    "instance not found");
	return instance;
}

/**
 * stdiolink_engine_get_instance:
 * @self: the engine
 * @id: an instance id
 * @error: return location for a #GError
 *
 * Returns: (transfer full): InstanceJSON with working directory, log path and command line
 */
JsonNode *
stdiolink_engine_get_instance(StdiolinkEngine *self, const char *id, GError **error)
{
	StdiolinkInstance *instance = lookup_instance(self, id, error);

	return instance != NULL ? stdiolink_instance_to_json(instance, TRUE) : NULL;
}

/**
 * stdiolink_engine_terminate_instance:
 * @self: the engine
 * @id: an instance id
 * @error: return location for a #GError
 *
 * Returns: (transfer full): `{"terminated":true}`; the exit follows as an event
 */
JsonNode *
stdiolink_engine_terminate_instance(StdiolinkEngine *self, const char *id, GError **error)
{
	JsonObject *root;

	if (lookup_instance(self, id, error) == NULL)
		return NULL;
	stdiolink_instance_manager_terminate(self->instances, id);
	root = json_object_new();
	json_object_set_boolean_member(root, "terminated", TRUE);
	return stdiolink_json_node_new_object(root);
}

/* ---- drivers ------------------------------------------------------------------------- */

/**
 * stdiolink_engine_list_drivers:
 * @self: the engine
 *
 * Returns: (transfer full): `{"drivers":[...]}` ordered by id
 */
JsonNode *
stdiolink_engine_list_drivers(StdiolinkEngine *self)
{
	g_autoptr(GPtrArray) ids = stdiolink_engine_sorted_keys(self->drivers);
	JsonObject *root = json_object_new();
	JsonArray *list = json_array_new();

	for (guint i = 0; i < ids->len; i++) {
		StdiolinkDriver *drv = g_hash_table_lookup(self->drivers, ids->pdata[i]);

		json_array_add_element(list, stdiolink_driver_to_list_json(drv, self->data_root));
	}
	json_object_set_array_member(root, "drivers", list);
	return stdiolink_json_node_new_object(root);
}

/**
 * stdiolink_engine_get_driver:
 * @self: the engine
 * @id: a driver id
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the driver with its normalized metadata
 */
JsonNode *
stdiolink_engine_get_driver(StdiolinkEngine *self, const char *id, GError **error)
{
	StdiolinkDriver *drv = g_hash_table_lookup(self->drivers, id);

	if (drv == NULL) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND,
				    "driver not found");
		return NULL;
	}
	return stdiolink_driver_to_detail_json(drv, self->data_root);
}

/* ---- shutdown ------------------------------------------------------------------------ */

/* how long a shutdown waits for cancelled jobs; a worker stuck in a read is left behind */
#define SHUTDOWN_JOBS_LIMIT_MS 2000

typedef struct {
	guint waiting;		   /* the jobs' and the instances' stops not yet done */
	GCancellable *jobs_limit;  /* cancels the wait for the jobs when it runs too long */
	guint jobs_limit_id;
	GError *error;		   /* from stopping the instances */
} Shutdown;

static void
shutdown_free(Shutdown *sd)
{
	g_clear_handle_id(&sd->jobs_limit_id, g_source_remove);
	g_object_unref(sd->jobs_limit);
	g_clear_error(&sd->error);
	g_free(sd);
}

static void
shutdown_flushed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	Shutdown *sd = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;

	if (!stdiolink_event_bus_flush_finish(STDIOLINK_EVENT_BUS(source), res, &error))
		g_warning("event log: %s", error->message);
	if (sd->error != NULL) {
		g_task_return_error(task, g_error_copy(sd->error));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

/* takes @task's reference; the last step flushes the event log and completes it */
static void
shutdown_step_done(GTask *task)
{
	Shutdown *sd = g_task_get_task_data(task);
	StdiolinkEngine *self = g_task_get_source_object(task);

	if (--sd->waiting > 0) {
		g_object_unref(task);
		return;
	}

	/* the last instance.finished events must reach the event log before the daemon exits */
	stdiolink_event_bus_flush_async(self->bus, NULL, shutdown_flushed_cb, task);
}

static void
instances_stopped_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = user_data;
	Shutdown *sd = g_task_get_task_data(task);

	stdiolink_instance_manager_shutdown_finish(STDIOLINK_INSTANCE_MANAGER(source), res,
						   &sd->error);
	shutdown_step_done(task);
}

static void
jobs_stopped_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = user_data;
	Shutdown *sd = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;

	g_clear_handle_id(&sd->jobs_limit_id, g_source_remove);
	if (!stdiolink_job_manager_shutdown_finish(STDIOLINK_JOB_MANAGER(source), res, &error)) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			g_warning("jobs: still running %u ms after their cancellation; not waiting "
				  "for them", SHUTDOWN_JOBS_LIMIT_MS);
		else
			g_warning("jobs: %s", error->message);
	}
	shutdown_step_done(task);
}

static gboolean
jobs_limit_cb(gpointer user_data)
{
	Shutdown *sd = user_data;

	sd->jobs_limit_id = 0;
	g_cancellable_cancel(sd->jobs_limit);
	return G_SOURCE_REMOVE;
}

/**
 * stdiolink_engine_shutdown_async:
 * @self: the engine
 * @cancellable: (nullable): a #GCancellable
 * @callback: called once every instance is gone
 * @user_data: for @callback
 *
 * Stops all scheduling for good (no tick, restart or exit handling starts anything
 * again). Then, at the same time, cancels the running jobs (they commit nothing) and waits
 * for them, at most SHUTDOWN_JOBS_LIMIT_MS, and terminates every instance, waits the grace
 * period without blocking and kills what is left. Last, flushes the event log.
 */
void
stdiolink_engine_shutdown_async(StdiolinkEngine *self,
				GCancellable *cancellable,
				GAsyncReadyCallback callback,
				gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	Shutdown *sd = g_new0(Shutdown, 1);

	g_task_set_source_tag(task, stdiolink_engine_shutdown_async);
	sd->waiting = 2;
	sd->jobs_limit = g_cancellable_new();
	g_task_set_task_data(task, sd, (GDestroyNotify)shutdown_free);

	/* nothing may start again while the instances are being stopped */
	stdiolink_scheduler_shutdown(self->scheduler);

	/* a job stuck in a worker thread must not keep the instances running */
	sd->jobs_limit_id = g_timeout_add(SHUTDOWN_JOBS_LIMIT_MS, jobs_limit_cb, sd);
	stdiolink_job_manager_shutdown_async(self->jobs, sd->jobs_limit, jobs_stopped_cb,
					     g_object_ref(task));
	stdiolink_instance_manager_shutdown_async(self->instances, cancellable,
						  instances_stopped_cb, task);
}

gboolean
stdiolink_engine_shutdown_finish(StdiolinkEngine *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/**
 * stdiolink_engine_kill_instances:
 * @self: the engine
 *
 * For a second SIGTERM, which exits without waiting out the grace period: every instance's
 * process group is killed at once, so none outlives the daemon. Call it after
 * stdiolink_engine_shutdown_async(), which has already stopped the scheduling.
 */
void
stdiolink_engine_kill_instances(StdiolinkEngine *self)
{
	g_return_if_fail(STDIOLINK_IS_ENGINE(self));

	stdiolink_instance_manager_kill_all(self->instances);
}
