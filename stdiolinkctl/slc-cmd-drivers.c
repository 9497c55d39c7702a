#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "slc-commands.h"

/* the path relative to the data root when there is one, else the absolute one */
static const char *
driver_program(JsonNode *driver)
{
	const char *display = slc_json_get_string(driver, "programDisplay");

	if (display != NULL && *display != '\0' && g_strcmp0(display, "--") != 0)
		return display;
	return slc_json_get_string(driver, "program");
}

static void
render_drivers_list(SlcContext *ctx, JsonNode *root)
{
	JsonArray *drivers = slc_json_get_array(root, "drivers");
	g_autoptr(SlcTable) table = slc_table_new(4);

	if (drivers == NULL || json_array_get_length(drivers) == 0) {
		printf("%s\n", _("No drivers in the catalogue."));
		return;
	}

	/* TRANSLATORS: table column headers of the driver list */
	slc_table_add_header(table, _("ID"));
	slc_table_add_header(table, _("NAME"));
	slc_table_add_header(table, _("VERSION"));
	slc_table_add_header(table, _("PROGRAM"));
	for (guint i = 0; i < json_array_get_length(drivers); i++) {
		JsonNode *driver = json_array_get_element(drivers, i);
		g_autofree char *id = slc_json_display(driver, "id");
		g_autofree char *name = slc_json_display(driver, "name");
		g_autofree char *version = slc_json_display(driver, "version");

		slc_table_add_row(table, id, name, version, driver_program(driver), NULL);
	}
	slc_context_print_table(ctx, table);
}

/**
 * slc_cmd_drivers_list:
 * @ctx: the context
 * @args: no arguments
 * @error: return location for a #GError
 *
 * `stdiolinkctl drivers list`: GET /api/drivers.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_drivers_list(SlcContext *ctx, SlcArgs *args, GError **error)
{
	return slc_context_show(ctx, "/api/drivers", render_drivers_list, error);
}

static void
render_commands(SlcContext *ctx, JsonArray *commands)
{
	g_autoptr(SlcTable) table = slc_table_new(2);

	if (commands == NULL || json_array_get_length(commands) == 0)
		return;

	/* TRANSLATORS: table column headers of a driver's commands */
	slc_table_add_header(table, _("COMMAND"));
	slc_table_add_header(table, _("DESCRIPTION"));
	for (guint i = 0; i < json_array_get_length(commands); i++) {
		JsonNode *command = json_array_get_element(commands, i);
		const char *title = slc_json_get_string(command, "title");
		const char *description = slc_json_get_string(command, "description");

		if (title == NULL || *title == '\0')
			title = description;
		slc_table_add_row(table, slc_json_get_string(command, "name") ?: "-",
				  title != NULL ? title : "", NULL);
	}
	printf("\n%s\n", _("Commands:"));
	slc_context_print_table(ctx, table);
}

static void
render_driver(SlcContext *ctx, JsonNode *root)
{
	g_autoptr(SlcTable) fields = slc_table_new(2);
	const char *description = slc_json_get_string(root, "meta.info.description");
	const char *vendor = slc_json_get_string(root, "meta.info.vendor");

	slc_fields_add_json(fields, _("ID"), root, "id");
	slc_fields_add_json(fields, _("Name"), root, "meta.info.name");
	slc_fields_add_json(fields, _("Version"), root, "meta.info.version");
	if (description != NULL && *description != '\0')
		slc_fields_add(fields, _("Description"), description, SLC_STYLE_NONE);
	if (vendor != NULL && *vendor != '\0')
		slc_fields_add(fields, _("Vendor"), vendor, SLC_STYLE_NONE);
	slc_fields_add_json(fields, _("Program"), root, "program");
	slc_fields_add_json(fields, _("Metadata hash"), root, "metaHash");
	slc_context_print_table(ctx, fields);

	render_commands(ctx, slc_json_get_array(root, "meta.commands"));
}

/**
 * slc_cmd_drivers_show:
 * @ctx: the context
 * @args: the driver id
 * @error: return location for a #GError
 *
 * `stdiolinkctl drivers show ID`: GET /api/drivers/ID.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_drivers_show(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_autofree char *id = stdiolink_client_escape_segment(args->positional[0]);
	g_autofree char *path = g_strdup_printf("/api/drivers/%s", id);

	return slc_context_show(ctx, path, render_driver, error);
}

/**
 * slc_cmd_drivers_scan:
 * @ctx: the context
 * @args: `--no-refresh`, `--no-wait`
 * @error: return location for a #GError
 *
 * `stdiolinkctl drivers scan`: POST /api/drivers/scan as a job (`{"refreshMeta"}`), then
 * follows it to its end and prints its counters; see slc_jobs_run().
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_drivers_scan(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_autoptr(JsonObject) object = json_object_new();
	g_autoptr(JsonNode) body = NULL;

	json_object_set_boolean_member(object, "refreshMeta", !args->no_refresh);
	body = stdiolink_json_node_new_object(g_steal_pointer(&object));
	return slc_jobs_run(ctx, "/api/drivers/scan", body, !args->no_wait, error);
}
