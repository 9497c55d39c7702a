#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "slc-commands.h"

static void
render_instances_list(SlcContext *ctx, JsonNode *root)
{
	JsonArray *instances = slc_json_get_array(root, "instances");
	g_autoptr(SlcTable) table = NULL;

	if (instances == NULL || json_array_get_length(instances) == 0) {
		printf("%s\n", _("No instances are running."));
		return;
	}
	table = slc_instances_table_new(instances);
	slc_context_print_table(ctx, table);
}

/**
 * slc_cmd_instances_list:
 * @ctx: the context
 * @args: `--project`
 * @error: return location for a #GError
 *
 * `stdiolinkctl instances list [--project ID]`: GET /api/instances?projectId=ID.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_instances_list(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_autofree char *project = NULL;
	g_autofree char *path = NULL;

	if (args->project == NULL)
		return slc_context_show(ctx, "/api/instances", render_instances_list, error);

	project = stdiolink_client_escape_segment(args->project);
	path = g_strdup_printf("/api/instances?projectId=%s", project);
	return slc_context_show(ctx, path, render_instances_list, error);
}

/* the command line as a shell would need it typed */
static char *
format_command_line(JsonArray *words)
{
	g_autoptr(GString) out = g_string_new(NULL);

	if (words == NULL)
		return g_strdup("-");
	for (guint i = 0; i < json_array_get_length(words); i++) {
		JsonNode *word = json_array_get_element(words, i);
		g_autofree char *quoted = NULL;

		if (!stdiolink_json_node_is_string(word))
			continue;
		quoted = g_shell_quote(json_node_get_string(word));
		if (out->len > 0)
			g_string_append_c(out, ' ');
		g_string_append(out, quoted);
	}
	return g_strdup(out->str);
}

static void
render_instance(SlcContext *ctx, JsonNode *root)
{
	g_autoptr(SlcTable) fields = slc_table_new(2);
	JsonArray *words = slc_json_get_array(root, "commandLine");
	g_autofree char *command_line = format_command_line(words);

	slc_fields_add_json(fields, _("ID"), root, "id");
	slc_fields_add_json(fields, _("Project"), root, "projectId");
	slc_fields_add_json(fields, _("Service"), root, "serviceId");
	slc_fields_add_status(fields, _("Status"), root, "status");
	slc_fields_add_json(fields, _("PID"), root, "pid");
	slc_fields_add_json(fields, _("Started at"), root, "startedAt");
	slc_fields_add_json(fields, _("Working directory"), root, "workingDirectory");
	slc_fields_add_json(fields, _("Log file"), root, "logPath");
	slc_fields_add(fields, _("Command line"), command_line, SLC_STYLE_NONE);
	slc_context_print_table(ctx, fields);
}

/**
 * slc_instance_path:
 * @id: an instance id
 * @action: (nullable): what follows the id, e.g. `logs`
 *
 * Returns: (transfer full): `/api/instances/<id>[/<action>]` with @id escaped
 */
char *
slc_instance_path(const char *id, const char *action)
{
	g_autofree char *escaped = stdiolink_client_escape_segment(id);

	if (action == NULL)
		return g_strdup_printf("/api/instances/%s", escaped);
	return g_strdup_printf("/api/instances/%s/%s", escaped, action);
}

/**
 * slc_cmd_instances_show:
 * @ctx: the context
 * @args: the instance id
 * @error: return location for a #GError
 *
 * `stdiolinkctl instances show ID`: GET /api/instances/ID.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_instances_show(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_autofree char *path = slc_instance_path(args->positional[0], NULL);

	return slc_context_show(ctx, path, render_instance, error);
}

/**
 * slc_cmd_instances_terminate:
 * @ctx: the context
 * @args: the instance id
 * @error: return location for a #GError
 *
 * `stdiolinkctl instances terminate ID`: POST /api/instances/ID/terminate. The daemon
 * does not wait for the process to exit.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_instances_terminate(SlcContext *ctx, SlcArgs *args, GError **error)
{
	const char *id = args->positional[0];
	g_autofree char *path = slc_instance_path(id, "terminate");
	g_autoptr(JsonNode) answer = NULL;

	if (!slc_context_action(ctx, "POST", path, NULL, &answer, error))
		return FALSE;
	if (!ctx->json)
		printf(_("Terminated instance %s.\n"), id);
	return TRUE;
}
