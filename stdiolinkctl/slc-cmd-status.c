#include "config.h"

#include <glib/gi18n.h>

#include "slc-commands.h"

/* "3d 4h 5m" from milliseconds; the largest three units that matter */
static char *
format_uptime(JsonNode *root, const char *path)
{
	JsonNode *node = slc_json_lookup(root, path);
	guint64 total;
	guint days, hours, minutes, seconds;

	if (!stdiolink_json_node_is_number(node) || stdiolink_json_node_get_number(node) < 0)
		return g_strdup("-");

	total = (guint64)(stdiolink_json_node_get_number(node) / 1000);
	days = (guint)MIN(total / 86400, G_MAXUINT);
	hours = (guint)(total / 3600 % 24);
	minutes = (guint)(total / 60 % 60);
	seconds = (guint)(total % 60);
	if (days > 0) {
		/* TRANSLATORS: an uptime in days, hours and minutes */
		return g_strdup_printf(_("%ud %uh %um"), days, hours, minutes);
	}
	if (hours > 0) {
		/* TRANSLATORS: an uptime in hours, minutes and seconds */
		return g_strdup_printf(_("%uh %um %us"), hours, minutes, seconds);
	}
	/* TRANSLATORS: an uptime in minutes and seconds */
	return g_strdup_printf(_("%um %us"), minutes, seconds);
}

static char *
format_project_counts(JsonNode *root)
{
	g_autofree char *total = slc_json_display(root, "counts.projects.total");
	g_autofree char *valid = slc_json_display(root, "counts.projects.valid");
	g_autofree char *invalid = slc_json_display(root, "counts.projects.invalid");
	g_autofree char *enabled = slc_json_display(root, "counts.projects.enabled");
	g_autofree char *disabled = slc_json_display(root, "counts.projects.disabled");

	/* TRANSLATORS: project counts; every %s is a number */
	return g_strdup_printf(_("%s (%s valid, %s invalid, %s enabled, %s disabled)"),
			       total, valid, invalid, enabled, disabled);
}

static void
render_status(SlcContext *ctx, JsonNode *root)
{
	g_autoptr(SlcTable) fields = slc_table_new(2);
	const char *host = slc_json_get_string(root, "host");
	const char *program = slc_json_get_string(root, "serviceProgram");
	g_autofree char *port = slc_json_display(root, "port");
	g_autofree char *listen = g_strdup_printf("%s:%s", host != NULL ? host : "-", port);
	g_autofree char *uptime = format_uptime(root, "uptimeMs");
	g_autofree char *projects = format_project_counts(root);

	slc_fields_add_status(fields, _("Status"), root, "status");
	slc_fields_add_json(fields, _("Version"), root, "version");
	slc_fields_add(fields, _("Address"), ctx->url, SLC_STYLE_NONE);
	slc_fields_add(fields, _("Listening on"), listen, SLC_STYLE_NONE);
	slc_fields_add(fields, _("Uptime"), uptime, SLC_STYLE_NONE);
	slc_fields_add_json(fields, _("Started at"), root, "startedAt");
	slc_fields_add_json(fields, _("Data root"), root, "dataRoot");
	/* TRANSLATORS: shown when no service program (JavaScript runtime) was found */
	slc_fields_add(fields, _("Service program"),
		       program != NULL && *program != '\0' ? program : _("none"), SLC_STYLE_NONE);
	slc_fields_add_json(fields, _("Services"), root, "counts.services");
	slc_fields_add(fields, _("Projects"), projects, SLC_STYLE_NONE);
	slc_fields_add_json(fields, _("Instances"), root, "counts.instances.total");
	slc_fields_add_json(fields, _("Drivers"), root, "counts.drivers");
	slc_fields_add_json(fields, _("Platform"), root, "system.platform");
	slc_fields_add_json(fields, _("CPU cores"), root, "system.cpuCores");
	slc_context_print_table(ctx, fields);
}

/**
 * slc_cmd_status:
 * @ctx: the context
 * @args: no arguments
 * @error: return location for a #GError
 *
 * `stdiolinkctl status`: GET /api/server/status.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_status(SlcContext *ctx, SlcArgs *args, GError **error)
{
	return slc_context_show(ctx, "/api/server/status", render_status, error);
}
