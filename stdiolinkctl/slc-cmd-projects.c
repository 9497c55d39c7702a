#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "slc-commands.h"

/* the API caps pageSize at 100 */
#define SLC_PROJECTS_PAGE_SIZE 100

/* "fixed_rate (intervalMs=5000, maxConcurrent=1, runTimeoutMs=0)"; keys as the API has them */
static char *
format_schedule(JsonNode *project)
{
	JsonNode *schedule = slc_json_lookup(project, "schedule");
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GList) members = NULL;
	guint n = 0;

	if (schedule == NULL || !JSON_NODE_HOLDS_OBJECT(schedule))
		return g_strdup("-");

	g_string_append(out, slc_json_get_string(schedule, "type") ?: "-");
	members = stdiolink_json_object_get_sorted_members(json_node_get_object(schedule));
	for (GList *l = members; l != NULL; l = l->next) {
		g_autofree char *value = NULL;

		if (g_str_equal(l->data, "type"))
			continue;
		value = slc_json_display(schedule, l->data);
		g_string_append_printf(out, "%s%s=%s", n++ == 0 ? " (" : ", ",
				       (const char *)l->data, value);
	}
	if (n > 0)
		g_string_append_c(out, ')');
	return g_strdup(out->str);
}

static void
add_instance_rows(SlcTable *table, JsonArray *instances)
{
	/* TRANSLATORS: table column headers of the instance list */
	slc_table_add_header(table, _("ID"));
	slc_table_add_header(table, _("PROJECT"));
	slc_table_add_header(table, _("SERVICE"));
	slc_table_add_header(table, _("PID"));
	slc_table_add_header(table, _("STATUS"));
	slc_table_add_header(table, _("STARTED"));
	for (guint i = 0; instances != NULL && i < json_array_get_length(instances); i++) {
		JsonNode *instance = json_array_get_element(instances, i);
		const char *status = slc_json_get_string(instance, "status");
		g_autofree char *id = slc_json_display(instance, "id");
		g_autofree char *project = slc_json_display(instance, "projectId");
		g_autofree char *service = slc_json_display(instance, "serviceId");
		g_autofree char *pid = slc_json_display(instance, "pid");
		g_autofree char *started = slc_json_display(instance, "startedAt");

		slc_table_add_cell(table, id, SLC_STYLE_NONE);
		slc_table_add_cell(table, project, SLC_STYLE_NONE);
		slc_table_add_cell(table, service, SLC_STYLE_NONE);
		slc_table_add_cell(table, pid, SLC_STYLE_NONE);
		slc_table_add_cell(table, status != NULL ? status : "-", slc_status_style(status));
		slc_table_add_cell(table, started, SLC_STYLE_NONE);
	}
}

/**
 * slc_instances_table_new:
 * @instances: (nullable): an array of InstanceJSON
 *
 * Returns: (transfer full): the table `instances list` and `projects show` print
 */
SlcTable *
slc_instances_table_new(JsonArray *instances)
{
	SlcTable *table = slc_table_new(6);

	add_instance_rows(table, instances);
	return table;
}

static void
print_paging_hint(JsonNode *root, guint shown)
{
	JsonNode *total_node = slc_json_lookup(root, "total");
	JsonNode *page_node = slc_json_lookup(root, "page");
	JsonNode *size_node = slc_json_lookup(root, "pageSize");
	guint total, page, size, first;

	if (!stdiolink_json_node_is_number(total_node) ||
	    !stdiolink_json_node_is_number(page_node) ||
	    !stdiolink_json_node_is_number(size_node))
		return;
	total = (guint)stdiolink_json_node_get_number(total_node);
	page = (guint)MAX(stdiolink_json_node_get_number(page_node), 1);
	size = (guint)MAX(stdiolink_json_node_get_number(size_node), 1);
	first = (page - 1) * size;
	if (first + shown >= total)
		return;

	/* a hint, not the answer: it goes to stderr so stdout stays the table */
	fprintf(stderr,
		/* TRANSLATORS: e.g. "Showing projects 1-100 of 250; use “--page 2” for more." */
		_("Showing projects %u–%u of %u; use “--page %u” for more.\n"),
		shown > 0 ? first + 1 : 0,
		first + shown,
		total,
		page + 1);
}

static void
render_projects_list(SlcContext *ctx, JsonNode *root)
{
	JsonArray *projects = slc_json_get_array(root, "projects");
	g_autoptr(SlcTable) table = slc_table_new(7);
	guint n = projects != NULL ? json_array_get_length(projects) : 0;

	if (n == 0) {
		printf("%s\n", _("No projects."));
		print_paging_hint(root, 0);
		return;
	}

	/* TRANSLATORS: table column headers of the project list */
	slc_table_add_header(table, _("ID"));
	slc_table_add_header(table, _("NAME"));
	slc_table_add_header(table, _("SERVICE"));
	slc_table_add_header(table, _("STATUS"));
	slc_table_add_header(table, _("ENABLED"));
	slc_table_add_header(table, _("SCHEDULE"));
	slc_table_add_header(table, _("INSTANCES"));
	for (guint i = 0; i < n; i++) {
		JsonNode *project = json_array_get_element(projects, i);
		const char *status = slc_json_get_string(project, "status");
		g_autofree char *id = slc_json_display(project, "id");
		g_autofree char *name = slc_json_display(project, "name");
		g_autofree char *service = slc_json_display(project, "serviceId");
		g_autofree char *enabled = slc_json_display(project, "enabled");
		g_autofree char *schedule = slc_json_display(project, "schedule.type");
		g_autofree char *count = slc_json_display(project, "instanceCount");

		slc_table_add_cell(table, id, SLC_STYLE_NONE);
		slc_table_add_cell(table, name, SLC_STYLE_NONE);
		slc_table_add_cell(table, service, SLC_STYLE_NONE);
		slc_table_add_cell(table, status != NULL ? status : "-", slc_status_style(status));
		slc_table_add_cell(table, enabled, SLC_STYLE_NONE);
		slc_table_add_cell(table, schedule, SLC_STYLE_NONE);
		slc_table_add_cell(table, count, SLC_STYLE_NONE);
	}
	slc_context_print_table(ctx, table);
	print_paging_hint(root, n);
}

/**
 * slc_cmd_projects_list:
 * @ctx: the context
 * @args: `--page`
 * @error: return location for a #GError
 *
 * `stdiolinkctl projects list [--page N]`: GET /api/projects, 100 per page.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_projects_list(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_autofree char *path = NULL;

	if (args->page < 1) {
		g_set_error_literal(error,
				    SLC_ERROR,
				    SLC_ERROR_USAGE,
				    _("option “--page” needs a number of 1 or more"));
		return FALSE;
	}
	path = g_strdup_printf("/api/projects?page=%d&pageSize=%d",
			       args->page,
			       SLC_PROJECTS_PAGE_SIZE);
	return slc_context_show(ctx, path, render_projects_list, error);
}

static void
render_project(SlcContext *ctx, JsonNode *root)
{
	g_autoptr(SlcTable) fields = slc_table_new(2);
	JsonArray *instances = slc_json_get_array(root, "instances");
	const char *project_error = slc_json_get_string(root, "error");
	g_autofree char *schedule = format_schedule(root);

	slc_fields_add_json(fields, _("ID"), root, "id");
	slc_fields_add_json(fields, _("Name"), root, "name");
	slc_fields_add_json(fields, _("Service"), root, "serviceId");
	slc_fields_add_status(fields, _("Status"), root, "status");
	slc_fields_add_json(fields, _("Enabled"), root, "enabled");
	slc_fields_add_json(fields, _("Valid"), root, "valid");
	if (project_error != NULL)
		slc_fields_add(fields, _("Error"), project_error, SLC_STYLE_BAD);
	slc_fields_add(fields, _("Schedule"), schedule, SLC_STYLE_NONE);
	slc_fields_add_json(fields, _("Instances"), root, "instanceCount");
	slc_fields_add_json(fields, _("Configuration"), root, "config");
	slc_context_print_table(ctx, fields);

	if (instances != NULL && json_array_get_length(instances) > 0) {
		g_autoptr(SlcTable) table = slc_instances_table_new(instances);

		printf("\n%s\n", _("Instances:"));
		slc_context_print_table(ctx, table);
	}
}

/**
 * slc_project_path:
 * @id: a project id
 * @action: (nullable): what follows the id, e.g. `start`
 *
 * Returns: (transfer full): `/api/projects/<id>[/<action>]` with @id escaped
 */
char *
slc_project_path(const char *id, const char *action)
{
	g_autofree char *escaped = stdiolink_client_escape_segment(id);

	if (action == NULL)
		return g_strdup_printf("/api/projects/%s", escaped);
	return g_strdup_printf("/api/projects/%s/%s", escaped, action);
}

/**
 * slc_cmd_projects_show:
 * @ctx: the context
 * @args: the project id
 * @error: return location for a #GError
 *
 * `stdiolinkctl projects show ID`: GET /api/projects/ID.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_projects_show(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_autofree char *path = slc_project_path(args->positional[0], NULL);

	return slc_context_show(ctx, path, render_project, error);
}

/**
 * slc_parse_json_object:
 * @text: JSON text
 * @origin: where it comes from, for the message: an option name or a file name
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the object, or %NULL with %SLC_ERROR_USAGE
 */
JsonNode *
slc_parse_json_object(const char *text, const char *origin, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	g_autoptr(JsonNode) node = stdiolink_json_parse(text, -1, &local_error);

	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
		g_set_error(error,
			    SLC_ERROR,
			    SLC_ERROR_USAGE,
			    /* TRANSLATORS: “--config” or a file name, then what is wrong */
			    _("%s is not a JSON object: %s"),
			    origin,
			    local_error != NULL ? local_error->message : _("another JSON value"));
		return NULL;
	}
	return g_steal_pointer(&node);
}

/**
 * slc_read_json_object:
 * @file: a file name
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the JSON object in @file, or %NULL with
 * %SLC_ERROR_USAGE if it cannot be read or holds something else
 */
JsonNode *
slc_read_json_object(const char *file, GError **error)
{
	g_autofree char *contents = NULL;
	g_autoptr(GError) local_error = NULL;

	if (!g_file_get_contents(file, &contents, NULL, &local_error)) {
		g_set_error_literal(error, SLC_ERROR, SLC_ERROR_USAGE, local_error->message);
		return NULL;
	}
	return slc_parse_json_object(contents, file, error);
}

/**
 * slc_config_option:
 * @args: `--config` and `--config-file`
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the configuration object the user gave, or %NULL;
 * %NULL with %SLC_ERROR_USAGE if both options are given or the value is not an object
 */
JsonNode *
slc_config_option(SlcArgs *args, GError **error)
{
	if (args->config != NULL && args->config_file != NULL) {
		g_set_error_literal(error,
				    SLC_ERROR,
				    SLC_ERROR_USAGE,
				    _("use either “--config” or “--config-file”, not both"));
		return NULL;
	}
	if (args->config != NULL)
		return slc_parse_json_object(args->config, "--config", error);
	if (args->config_file != NULL)
		return slc_read_json_object(args->config_file, error);
	return NULL;
}

/* the configuration to check: from --config, from --config-file, or the stored one */
static JsonNode *
config_to_validate(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	g_autofree char *path = NULL;
	g_autoptr(JsonNode) project = NULL;
	JsonNode *config = slc_config_option(args, &local_error);

	if (config != NULL || local_error != NULL) {
		if (local_error != NULL)
			g_propagate_error(error, g_steal_pointer(&local_error));
		return config;
	}

	/* re-check what is stored: ProjectJSON carries the config */
	path = slc_project_path(args->positional[0], NULL);
	project = slc_context_request(ctx, "GET", path, NULL, NULL, error);
	if (project == NULL)
		return NULL;
	config = slc_json_lookup(project, "config");
	if (config == NULL || !JSON_NODE_HOLDS_OBJECT(config)) {
		g_set_error_literal(error,
				    SLC_ERROR,
				    SLC_ERROR_FAILED,
				    _("the daemon sent an unexpected answer"));
		return NULL;
	}
	return json_node_copy(config);
}

/**
 * slc_cmd_projects_validate:
 * @ctx: the context
 * @args: the project id, `--config` or `--config-file`
 * @error: return location for a #GError
 *
 * `stdiolinkctl projects validate ID`: POST /api/projects/ID/validate. An invalid
 * configuration fails with %SLC_ERROR_FAILED, so scripts can test the exit status.
 *
 * Returns: %TRUE if the configuration is valid
 */
gboolean
slc_cmd_projects_validate(SlcContext *ctx, SlcArgs *args, GError **error)
{
	const char *id = args->positional[0];
	g_autoptr(JsonNode) config = NULL;
	g_autoptr(JsonNode) body = json_node_new(JSON_NODE_OBJECT);
	g_autoptr(JsonObject) object = json_object_new();
	g_autoptr(JsonNode) answer = NULL;
	g_autofree char *path = slc_project_path(id, "validate");
	JsonNode *valid;

	config = config_to_validate(ctx, args, error);
	if (config == NULL)
		return FALSE;
	json_object_set_member(object, "config", g_steal_pointer(&config));
	json_node_set_object(body, object);

	if (!slc_context_action(ctx, "POST", path, body, &answer, error))
		return FALSE;
	valid = slc_json_lookup(answer, "valid");
	if (stdiolink_json_node_is_bool(valid) && json_node_get_boolean(valid)) {
		if (!ctx->json)
			printf(_("The configuration of project “%s” is valid.\n"), id);
		return TRUE;
	}
	g_set_error(error,
		    SLC_ERROR,
		    SLC_ERROR_FAILED,
		    /* TRANSLATORS: the first %s is a project id, the second the reason */
		    _("the configuration of project “%s” is invalid: %s"),
		    id,
		    slc_json_get_string(answer, "error") ?: _("no reason given"));
	return FALSE;
}

/**
 * slc_cmd_projects_start:
 * @ctx: the context
 * @args: the project id
 * @error: return location for a #GError
 *
 * `stdiolinkctl projects start ID`: POST /api/projects/ID/start. The daemon answers at
 * once with the new instance in status `starting`, or `{"noop": true}` for a daemon
 * project that already runs.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_projects_start(SlcContext *ctx, SlcArgs *args, GError **error)
{
	const char *id = args->positional[0];
	g_autofree char *path = slc_project_path(id, "start");
	g_autoptr(JsonNode) answer = NULL;
	JsonNode *noop;

	if (!slc_context_action(ctx, "POST", path, NULL, &answer, error))
		return FALSE;
	if (ctx->json)
		return TRUE;

	noop = slc_json_lookup(answer, "noop");
	if (stdiolink_json_node_is_bool(noop) && json_node_get_boolean(noop)) {
		printf(_("Project “%s” is already running; nothing to do.\n"), id);
		return TRUE;
	}
	/* TRANSLATORS: project id, instance id, instance status (e.g. “starting”) */
	printf(_("Started project “%s”: instance %s (%s).\n"),
	       id,
	       slc_json_get_string(answer, "instanceId") ?: "-",
	       slc_json_get_string(answer, "status") ?: "-");
	return TRUE;
}

/**
 * slc_cmd_projects_stop:
 * @ctx: the context
 * @args: the project id
 * @error: return location for a #GError
 *
 * `stdiolinkctl projects stop ID`: POST /api/projects/ID/stop. The daemon does not wait
 * for the instances to exit.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_projects_stop(SlcContext *ctx, SlcArgs *args, GError **error)
{
	const char *id = args->positional[0];
	g_autofree char *path = slc_project_path(id, "stop");
	g_autoptr(JsonNode) answer = NULL;

	if (!slc_context_action(ctx, "POST", path, NULL, &answer, error))
		return FALSE;
	if (!ctx->json)
		printf(_("Stopped project “%s”; its instances are being killed.\n"), id);
	return TRUE;
}

static void
render_runtime(SlcContext *ctx, JsonNode *root)
{
	g_autoptr(SlcTable) fields = slc_table_new(2);
	JsonArray *instances = slc_json_get_array(root, "instances");
	const char *runtime_error = slc_json_get_string(root, "error");

	slc_fields_add_json(fields, _("ID"), root, "id");
	slc_fields_add_status(fields, _("Status"), root, "status");
	slc_fields_add_json(fields, _("Enabled"), root, "enabled");
	slc_fields_add_json(fields, _("Valid"), root, "valid");
	if (runtime_error != NULL)
		slc_fields_add(fields, _("Error"), runtime_error, SLC_STYLE_BAD);
	slc_fields_add_json(fields, _("Schedule"), root, "schedule.type");
	slc_fields_add_json(fields, _("Timer armed"), root, "schedule.timerActive");
	slc_fields_add_json(fields, _("Auto-restarting"), root, "schedule.autoRestarting");
	slc_fields_add_json(fields, _("Restart suppressed"), root, "schedule.restartSuppressed");
	slc_fields_add_json(fields, _("Failures in a row"), root, "schedule.consecutiveFailures");
	slc_fields_add_json(fields, _("Shutting down"), root, "schedule.shuttingDown");
	slc_fields_add_json(fields, _("Instances"), root, "runningInstances");
	slc_context_print_table(ctx, fields);

	if (instances != NULL && json_array_get_length(instances) > 0) {
		g_autoptr(SlcTable) table = slc_instances_table_new(instances);

		printf("\n%s\n", _("Instances:"));
		slc_context_print_table(ctx, table);
	}
}

static void
add_runtime_row(SlcTable *table, JsonNode *runtime)
{
	const char *status = slc_json_get_string(runtime, "status");
	g_autofree char *id = slc_json_display(runtime, "id");
	g_autofree char *schedule = slc_json_display(runtime, "schedule.type");
	g_autofree char *timer = slc_json_display(runtime, "schedule.timerActive");
	g_autofree char *restarting = slc_json_display(runtime, "schedule.autoRestarting");
	g_autofree char *suppressed = slc_json_display(runtime, "schedule.restartSuppressed");
	g_autofree char *failures = slc_json_display(runtime, "schedule.consecutiveFailures");
	g_autofree char *count = slc_json_display(runtime, "runningInstances");

	slc_table_add_cell(table, id, SLC_STYLE_NONE);
	slc_table_add_cell(table, status != NULL ? status : "-", slc_status_style(status));
	slc_table_add_cell(table, schedule, SLC_STYLE_NONE);
	slc_table_add_cell(table, timer, SLC_STYLE_NONE);
	slc_table_add_cell(table, restarting, SLC_STYLE_NONE);
	slc_table_add_cell(table, suppressed, SLC_STYLE_NONE);
	slc_table_add_cell(table, failures, SLC_STYLE_NONE);
	slc_table_add_cell(table, count, SLC_STYLE_NONE);
}

static void
render_runtimes(SlcContext *ctx, JsonNode *root)
{
	JsonArray *runtimes = slc_json_get_array(root, "runtimes");
	g_autoptr(SlcTable) table = slc_table_new(8);
	guint n = runtimes != NULL ? json_array_get_length(runtimes) : 0;

	if (n == 0) {
		printf("%s\n", _("No projects."));
		return;
	}

	/* TRANSLATORS: table column headers of the project runtime list */
	slc_table_add_header(table, _("ID"));
	slc_table_add_header(table, _("STATUS"));
	slc_table_add_header(table, _("SCHEDULE"));
	slc_table_add_header(table, _("TIMER"));
	slc_table_add_header(table, _("AUTO-RESTART"));
	slc_table_add_header(table, _("SUPPRESSED"));
	slc_table_add_header(table, _("FAILURES"));
	slc_table_add_header(table, _("INSTANCES"));
	for (guint i = 0; i < n; i++)
		add_runtime_row(table, json_array_get_element(runtimes, i));
	slc_context_print_table(ctx, table);
}

static gboolean
runtime_listed(JsonNode *root, const char *id)
{
	JsonArray *runtimes = slc_json_get_array(root, "runtimes");

	for (guint i = 0; runtimes != NULL && i < json_array_get_length(runtimes); i++) {
		JsonNode *runtime = json_array_get_element(runtimes, i);

		if (g_strcmp0(slc_json_get_string(runtime, "id"), id) == 0)
			return TRUE;
	}
	return FALSE;
}

/* the list route skips unknown ids silently; a typo should not go unnoticed */
static gboolean
check_runtimes_listed(JsonNode *root, char **ids, GError **error)
{
	for (guint i = 0; ids[i] != NULL; i++) {
		if (runtime_listed(root, ids[i]))
			continue;
		g_set_error(error,
			    STDIOLINK_ERROR,
			    STDIOLINK_ERROR_NOT_FOUND,
			    _("project not found: %s"),
			    ids[i]);
		return FALSE;
	}
	return TRUE;
}

static char *
runtimes_path(char **ids)
{
	g_autoptr(GString) path = g_string_new("/api/projects/runtime");

	for (guint i = 0; ids[i] != NULL; i++) {
		g_autofree char *escaped = stdiolink_client_escape_segment(ids[i]);

		g_string_append(path, i == 0 ? "?ids=" : ",");
		g_string_append(path, escaped);
	}
	return g_strdup(path->str);
}

/**
 * slc_cmd_projects_runtime:
 * @ctx: the context
 * @args: the project ids, none for all projects
 * @error: return location for a #GError
 *
 * `stdiolinkctl projects runtime [ID…]`: one id shows GET /api/projects/ID/runtime in
 * full; none or several list GET /api/projects/runtime?ids=… as a table. An id the
 * daemon does not know is an error (exit status 1), after the table of the others.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_projects_runtime(SlcContext *ctx, SlcArgs *args, GError **error)
{
	char **ids = args->positional;
	g_autofree char *path = NULL;
	g_autoptr(GBytes) raw = NULL;
	g_autoptr(JsonNode) root = NULL;

	if (ids != NULL && ids[0] != NULL && ids[1] == NULL) {
		path = slc_project_path(ids[0], "runtime");
		return slc_context_show(ctx, path, render_runtime, error);
	}

	path = runtimes_path(ids != NULL ? ids : (char *[]){NULL});
	root = slc_context_request(ctx, "GET", path, NULL, &raw, error);
	if (root == NULL && raw == NULL)
		return FALSE;
	if (ctx->json) {
		slc_context_print_raw(ctx, raw);
	} else if (root != NULL && JSON_NODE_HOLDS_OBJECT(root)) {
		render_runtimes(ctx, root);
	} else {
		g_set_error_literal(error,
				    SLC_ERROR,
				    SLC_ERROR_FAILED,
				    _("the daemon sent an unexpected answer"));
		return FALSE;
	}
	return ids == NULL || check_runtimes_listed(root, ids, error);
}
