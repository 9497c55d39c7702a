#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "slc-commands.h"

/*
 * The commands that change projects: create, update, delete, enable, disable, reload. A
 * project body is built from a file, or for update from the stored project, and the
 * options are applied on top of it; PUT is a full replacement, so update always sends
 * every field.
 */

/* the keys of a project body; ProjectJSON adds computed ones that PUT and POST refuse */
static const char *const project_body_keys[] = {
	"id", "name", "serviceId", "enabled", "schedule", "config",
};

static const char *const schedule_types[] = {"manual", "fixed_rate", "daemon"};

/* a schedule option, the ScheduleJSON key it sets and the type it belongs to */
typedef struct {
	const char *option;
	const char *key;
	gsize offset;
	const char *type; /* NULL: every type */
} SlcScheduleOption;

static const SlcScheduleOption schedule_options[] = {
	{"--interval-ms", "intervalMs", G_STRUCT_OFFSET(SlcArgs, interval_ms), "fixed_rate"},
	{"--max-concurrent", "maxConcurrent", G_STRUCT_OFFSET(SlcArgs, max_concurrent),
	 "fixed_rate"},
	{"--restart-delay-ms", "restartDelayMs", G_STRUCT_OFFSET(SlcArgs, restart_delay_ms),
	 "daemon"},
	{"--max-failures", "maxConsecutiveFailures", G_STRUCT_OFFSET(SlcArgs, max_failures),
	 "daemon"},
	{"--run-timeout-ms", "runTimeoutMs", G_STRUCT_OFFSET(SlcArgs, run_timeout_ms), NULL},
};

static int
schedule_option_value(SlcArgs *args, const SlcScheduleOption *option)
{
	return G_STRUCT_MEMBER(int, args, option->offset);
}

/* parsed JSON is immutable: a copy whose own members can be changed */
static JsonObject *
object_copy(JsonObject *source)
{
	JsonObject *copy = json_object_new();
	g_autoptr(GList) members = NULL;

	if (source == NULL)
		return copy;
	members = json_object_get_members(source);
	for (GList *l = members; l != NULL; l = l->next) {
		JsonNode *member = json_object_get_member(source, l->data);

		json_object_set_member(copy, l->data, json_node_copy(member));
	}
	return copy;
}

static JsonObject *
body_from_project(JsonObject *project)
{
	JsonObject *body = json_object_new();

	for (guint i = 0; i < G_N_ELEMENTS(project_body_keys); i++) {
		JsonNode *member = json_object_get_member(project, project_body_keys[i]);

		if (member != NULL)
			json_object_set_member(body, project_body_keys[i], json_node_copy(member));
	}
	return body;
}

static gboolean
check_schedule_type(const char *type, GError **error)
{
	for (guint i = 0; i < G_N_ELEMENTS(schedule_types); i++) {
		if (g_str_equal(type, schedule_types[i]))
			return TRUE;
	}
	g_set_error(error,
		    SLC_ERROR,
		    SLC_ERROR_USAGE,
		    /* TRANSLATORS: %s is what the user gave; the three words are not translated */
		    _("unknown schedule “%s”; expected manual, fixed_rate or daemon"),
		    type);
	return FALSE;
}

static gboolean
schedule_options_given(SlcArgs *args)
{
	if (args->schedule != NULL)
		return TRUE;
	for (guint i = 0; i < G_N_ELEMENTS(schedule_options); i++) {
		if (schedule_option_value(args, &schedule_options[i]) != SLC_UNSET)
			return TRUE;
	}
	return FALSE;
}

/* the type the project will have: --schedule, else the one it has, else the default */
static const char *
effective_schedule_type(SlcArgs *args, JsonObject *schedule)
{
	const char *type;

	if (args->schedule != NULL)
		return args->schedule;
	type = schedule != NULL ? stdiolink_json_object_get_string(schedule, "type") : NULL;
	return type != NULL ? type : "manual";
}

/* --schedule and the options of one schedule type; an option of another type is a mistake
 * the daemon would silently drop */
static gboolean
apply_schedule(JsonObject *project, SlcArgs *args, GError **error)
{
	JsonObject *current = stdiolink_json_object_get_object(project, "schedule");
	g_autoptr(JsonObject) schedule = NULL;
	const char *type;

	if (!schedule_options_given(args))
		return TRUE;
	if (args->schedule != NULL && !check_schedule_type(args->schedule, error))
		return FALSE;

	type = effective_schedule_type(args, current);
	schedule = object_copy(current);
	for (guint i = 0; i < G_N_ELEMENTS(schedule_options); i++) {
		const SlcScheduleOption *option = &schedule_options[i];
		int value = schedule_option_value(args, option);

		if (value == SLC_UNSET)
			continue;
		if (option->type != NULL && !g_str_equal(option->type, type)) {
			g_set_error(error,
				    SLC_ERROR,
				    SLC_ERROR_USAGE,
				    /* TRANSLATORS: “--interval-ms” only applies to a fixed_rate
				     * schedule, not to manual */
				    _("“%s” only applies to a %s schedule, not to %s"),
				    option->option,
				    option->type,
				    type);
			return FALSE;
		}
		json_object_set_int_member(schedule, option->key, value);
	}
	json_object_set_string_member(schedule, "type", type);
	json_object_set_object_member(project, "schedule", g_steal_pointer(&schedule));
	return TRUE;
}

/* where the value of KEY=VALUE starts; NULL if there is no key */
static const char *
assignment_value(const char *assignment, GError **error)
{
	const char *equals = strchr(assignment, '=');

	if (equals == NULL || equals == assignment) {
		g_set_error(error,
			    SLC_ERROR,
			    SLC_ERROR_USAGE,
			    _("“--set” needs KEY=VALUE, not “%s”"),
			    assignment);
		return NULL;
	}
	return equals + 1;
}

/* "port=8080" sets a number, "host=example.org" (not JSON) a string */
static gboolean
apply_set(JsonObject *config, const char *assignment, GError **error)
{
	const char *text = assignment_value(assignment, error);
	g_autofree char *key = NULL;
	JsonNode *value;

	if (text == NULL)
		return FALSE;

	key = g_strndup(assignment, (gsize)(text - 1 - assignment));
	value = stdiolink_json_parse(text, -1, NULL);
	if (value == NULL) {
		value = json_node_new(JSON_NODE_VALUE);
		json_node_set_string(value, text);
	}
	json_object_set_member(config, key, value);
	return TRUE;
}

/* --config or --config-file replaces the configuration, then each --set changes it */
static gboolean
apply_config(JsonObject *project, SlcArgs *args, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	g_autoptr(JsonNode) replacement = slc_config_option(args, &local_error);
	g_autoptr(JsonObject) config = NULL;

	if (local_error != NULL) {
		g_propagate_error(error, g_steal_pointer(&local_error));
		return FALSE;
	}
	if (replacement != NULL)
		json_object_set_member(project, "config", g_steal_pointer(&replacement));
	if (args->set == NULL)
		return TRUE;

	config = object_copy(stdiolink_json_object_get_object(project, "config"));
	for (guint i = 0; args->set[i] != NULL; i++) {
		if (!apply_set(config, args->set[i], error))
			return FALSE;
	}
	json_object_set_object_member(project, "config", g_steal_pointer(&config));
	return TRUE;
}

static gboolean
apply_options(JsonObject *project, SlcArgs *args, GError **error)
{
	if (args->id != NULL)
		json_object_set_string_member(project, "id", args->id);
	if (args->name != NULL)
		json_object_set_string_member(project, "name", args->name);
	if (args->service != NULL)
		json_object_set_string_member(project, "serviceId", args->service);
	if (args->disabled)
		json_object_set_boolean_member(project, "enabled", FALSE);
	if (!apply_schedule(project, args, error))
		return FALSE;
	return apply_config(project, args, error);
}

/* without --file the options must name what the daemon requires */
static gboolean
check_create_options(SlcArgs *args, GError **error)
{
	if (args->file != NULL)
		return TRUE;
	if (args->id != NULL && args->name != NULL && args->service != NULL)
		return TRUE;
	g_set_error_literal(error,
			    SLC_ERROR,
			    SLC_ERROR_USAGE,
			    _("“projects create” needs “--id”, “--name” and “--service”, "
			      "or a project file with “--file”"));
	return FALSE;
}

/* update reads the stored project first: what is wrong without it is found before that */
static gboolean
check_update_options(SlcArgs *args, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	g_autoptr(JsonNode) config = NULL;

	if (args->schedule != NULL && !check_schedule_type(args->schedule, error))
		return FALSE;
	for (guint i = 0; args->set != NULL && args->set[i] != NULL; i++) {
		if (assignment_value(args->set[i], error) == NULL)
			return FALSE;
	}
	config = slc_config_option(args, &local_error);
	if (local_error != NULL) {
		g_propagate_error(error, g_steal_pointer(&local_error));
		return FALSE;
	}
	return TRUE;
}

static JsonObject *
project_from_file(const char *file, GError **error)
{
	g_autoptr(JsonNode) node = slc_read_json_object(file, error);

	if (node == NULL)
		return NULL;
	return object_copy(json_node_get_object(node));
}

static JsonObject *
project_from_daemon(SlcContext *ctx, const char *id, GError **error)
{
	g_autofree char *path = slc_project_path(id, NULL);
	g_autoptr(JsonNode) node = slc_context_request(ctx, "GET", path, NULL, NULL, error);

	if (node == NULL)
		return NULL;
	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		g_set_error_literal(error,
				    SLC_ERROR,
				    SLC_ERROR_FAILED,
				    _("the daemon sent an unexpected answer"));
		return NULL;
	}
	return body_from_project(json_node_get_object(node));
}

/* sends the body; with --json the answer is printed, else the caller says what happened */
static gboolean
send_project(SlcContext *ctx,
	     const char *method,
	     const char *path,
	     JsonObject *project,
	     JsonNode **answer,
	     GError **error)
{
	g_autoptr(JsonNode) body = stdiolink_json_node_new_object(json_object_ref(project));

	return slc_context_action(ctx, method, path, body, answer, error);
}

/**
 * slc_cmd_projects_create:
 * @ctx: the context
 * @args: `--file` and the project options
 * @error: return location for a #GError
 *
 * `stdiolinkctl projects create`: POST /api/projects with the object from `--file`, or
 * an empty one, with the options applied.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_projects_create(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_autoptr(JsonObject) project = NULL;
	g_autoptr(JsonNode) answer = NULL;

	if (!check_create_options(args, error))
		return FALSE;
	project = args->file != NULL ? project_from_file(args->file, error) : json_object_new();
	if (project == NULL || !apply_options(project, args, error))
		return FALSE;

	if (!send_project(ctx, "POST", "/api/projects", project, &answer, error))
		return FALSE;
	if (!ctx->json) {
		/* TRANSLATORS: a project id, then its status, e.g. “stopped” */
		printf(_("Created project “%s” (%s).\n"),
		       slc_json_get_string(answer, "id") ?: "-",
		       slc_json_get_string(answer, "status") ?: "-");
	}
	return TRUE;
}

/**
 * slc_cmd_projects_update:
 * @ctx: the context
 * @args: the project id, `--file` and the project options
 * @error: return location for a #GError
 *
 * `stdiolinkctl projects update ID`: PUT /api/projects/ID. The API replaces the whole
 * project, so the body starts from `--file` or from the stored project (GET), and the
 * options change only what they name.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_projects_update(SlcContext *ctx, SlcArgs *args, GError **error)
{
	const char *id = args->positional[0];
	g_autofree char *path = slc_project_path(id, NULL);
	g_autoptr(JsonObject) project = NULL;
	g_autoptr(JsonNode) answer = NULL;

	if (!check_update_options(args, error))
		return FALSE;
	if (args->file != NULL)
		project = project_from_file(args->file, error);
	else
		project = project_from_daemon(ctx, id, error);
	if (project == NULL || !apply_options(project, args, error))
		return FALSE;

	if (!send_project(ctx, "PUT", path, project, &answer, error))
		return FALSE;
	if (!ctx->json) {
		/* TRANSLATORS: a project id, then its status, e.g. “running” */
		printf(_("Updated project “%s” (%s).\n"),
		       id,
		       slc_json_get_string(answer, "status") ?: "-");
	}
	return TRUE;
}

/**
 * slc_cmd_projects_delete:
 * @ctx: the context
 * @args: the project id
 * @error: return location for a #GError
 *
 * `stdiolinkctl projects delete ID`: DELETE /api/projects/ID. The daemon kills the
 * instances first and keeps the log file. The answer has no body, so `--json` prints
 * nothing.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_projects_delete(SlcContext *ctx, SlcArgs *args, GError **error)
{
	const char *id = args->positional[0];
	g_autofree char *path = slc_project_path(id, NULL);
	g_autoptr(JsonNode) answer = NULL;

	if (!slc_context_action(ctx, "DELETE", path, NULL, &answer, error))
		return FALSE;
	if (!ctx->json)
		printf(_("Deleted project “%s”; its log file is kept.\n"), id);
	return TRUE;
}

/* PATCH .../enabled; with --json the answer is printed, else the caller says what happened */
static gboolean
set_enabled(SlcContext *ctx, const char *id, gboolean enabled, JsonNode **answer,
	    GError **error)
{
	g_autofree char *path = slc_project_path(id, "enabled");
	g_autoptr(JsonObject) object = json_object_new();
	g_autoptr(JsonNode) body = NULL;

	json_object_set_boolean_member(object, "enabled", enabled);
	body = stdiolink_json_node_new_object(g_steal_pointer(&object));
	return slc_context_action(ctx, "PATCH", path, body, answer, error);
}

/**
 * slc_cmd_projects_enable:
 * @ctx: the context
 * @args: the project id
 * @error: return location for a #GError
 *
 * `stdiolinkctl projects enable ID`: PATCH /api/projects/ID/enabled `{"enabled":true}`;
 * the daemon also lifts a suppressed restart and arms the schedule.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_projects_enable(SlcContext *ctx, SlcArgs *args, GError **error)
{
	const char *id = args->positional[0];
	g_autoptr(JsonNode) answer = NULL;

	if (!set_enabled(ctx, id, TRUE, &answer, error))
		return FALSE;
	if (!ctx->json) {
		/* TRANSLATORS: a project id, then its status, e.g. “running” */
		printf(_("Enabled project “%s” (%s).\n"),
		       id,
		       slc_json_get_string(answer, "status") ?: "-");
	}
	return TRUE;
}

/**
 * slc_cmd_projects_disable:
 * @ctx: the context
 * @args: the project id
 * @error: return location for a #GError
 *
 * `stdiolinkctl projects disable ID`: PATCH /api/projects/ID/enabled `{"enabled":false}`;
 * the daemon kills the instances before it answers.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_projects_disable(SlcContext *ctx, SlcArgs *args, GError **error)
{
	const char *id = args->positional[0];
	g_autoptr(JsonNode) answer = NULL;

	if (!set_enabled(ctx, id, FALSE, &answer, error))
		return FALSE;
	if (!ctx->json)
		printf(_("Disabled project “%s”; its instances were stopped.\n"), id);
	return TRUE;
}

/**
 * slc_cmd_projects_reload:
 * @ctx: the context
 * @args: the project id
 * @error: return location for a #GError
 *
 * `stdiolinkctl projects reload ID`: POST /api/projects/ID/reload, which reads
 * `projects/ID/` again (also a folder made by hand) and restarts the project.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_projects_reload(SlcContext *ctx, SlcArgs *args, GError **error)
{
	const char *id = args->positional[0];
	g_autofree char *path = slc_project_path(id, "reload");
	g_autoptr(JsonNode) answer = NULL;

	if (!slc_context_action(ctx, "POST", path, NULL, &answer, error))
		return FALSE;
	if (!ctx->json) {
		/* TRANSLATORS: a project id, then its status, e.g. “stopped” */
		printf(_("Reloaded project “%s” from disk (%s).\n"),
		       id,
		       slc_json_get_string(answer, "status") ?: "-");
	}
	return TRUE;
}
