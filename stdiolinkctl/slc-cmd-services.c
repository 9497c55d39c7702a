#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "slc-commands.h"

/* the path relative to the data root when there is one, else the absolute one */
static const char *
service_directory(JsonNode *service)
{
	const char *display = slc_json_get_string(service, "serviceDirDisplay");

	if (display != NULL && *display != '\0' && g_strcmp0(display, "--") != 0)
		return display;
	return slc_json_get_string(service, "serviceDir");
}

static void
render_services_list(SlcContext *ctx, JsonNode *root)
{
	JsonArray *services = slc_json_get_array(root, "services");
	g_autoptr(SlcTable) table = slc_table_new(5);

	if (services == NULL || json_array_get_length(services) == 0) {
		printf("%s\n", _("No services are loaded."));
		return;
	}

	/* TRANSLATORS: table column headers */
	slc_table_add_header(table, _("ID"));
	slc_table_add_header(table, _("NAME"));
	slc_table_add_header(table, _("VERSION"));
	slc_table_add_header(table, _("PROJECTS"));
	slc_table_add_header(table, _("DIRECTORY"));
	for (guint i = 0; i < json_array_get_length(services); i++) {
		JsonNode *service = json_array_get_element(services, i);
		g_autofree char *id = slc_json_display(service, "id");
		g_autofree char *name = slc_json_display(service, "name");
		g_autofree char *version = slc_json_display(service, "version");
		g_autofree char *count = slc_json_display(service, "projectCount");

		slc_table_add_row(table, id, name, version, count, service_directory(service),
				  NULL);
	}
	slc_context_print_table(ctx, table);
}

/**
 * slc_cmd_services_list:
 * @ctx: the context
 * @args: no arguments
 * @error: return location for a #GError
 *
 * `stdiolinkctl services list`: GET /api/services.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_services_list(SlcContext *ctx, SlcArgs *args, GError **error)
{
	return slc_context_show(ctx, "/api/services", render_services_list, error);
}

/* one row per field; nested fields (of objects and of array items) indented below */
static void
add_field_rows(SlcTable *table, JsonArray *fields, guint depth)
{
	for (guint i = 0; fields != NULL && i < json_array_get_length(fields); i++) {
		JsonNode *field = json_array_get_element(fields, i);
		JsonNode *required = slc_json_lookup(field, "required");
		g_autofree char *indent = g_strnfill(depth * 2, ' ');
		const char *field_name = slc_json_get_string(field, "name");
		g_autofree char *name = g_strconcat(indent, field_name != NULL ? field_name : "-",
						    NULL);
		g_autofree char *type = slc_json_display(field, "type");
		g_autofree char *def = slc_json_display(field, "default");
		const char *description = slc_json_get_string(field, "description");
		gboolean is_required = stdiolink_json_node_is_bool(required) &&
				       json_node_get_boolean(required);

		slc_table_add_row(table, name, type, is_required ? _("yes") : _("no"), def,
				  description != NULL ? description : "", NULL);
		add_field_rows(table, slc_json_get_array(field, "fields"), depth + 1);
		add_field_rows(table, slc_json_get_array(field, "items.fields"), depth + 1);
	}
}

static void
render_service(SlcContext *ctx, JsonNode *root)
{
	g_autoptr(SlcTable) fields = slc_table_new(2);
	g_autoptr(SlcTable) schema = slc_table_new(5);
	g_autofree char *projects = slc_json_display_strings(root, "projects");
	const char *description = slc_json_get_string(root, "manifest.description");
	const char *author = slc_json_get_string(root, "manifest.author");

	slc_fields_add_json(fields, _("ID"), root, "id");
	slc_fields_add_json(fields, _("Name"), root, "name");
	slc_fields_add_json(fields, _("Version"), root, "version");
	if (description != NULL)
		slc_fields_add(fields, _("Description"), description, SLC_STYLE_NONE);
	if (author != NULL)
		slc_fields_add(fields, _("Author"), author, SLC_STYLE_NONE);
	slc_fields_add_json(fields, _("Directory"), root, "serviceDir");
	slc_fields_add(fields, _("Projects"), projects, SLC_STYLE_NONE);
	slc_context_print_table(ctx, fields);

	add_field_rows(schema, slc_json_get_array(root, "configSchemaFields"), 0);
	if (slc_table_get_n_rows(schema) == 0)
		return;
	/* TRANSLATORS: table column headers of a service's configuration fields */
	slc_table_add_header(schema, _("FIELD"));
	slc_table_add_header(schema, _("TYPE"));
	slc_table_add_header(schema, _("REQUIRED"));
	slc_table_add_header(schema, _("DEFAULT"));
	slc_table_add_header(schema, _("DESCRIPTION"));
	printf("\n%s\n", _("Configuration fields:"));
	slc_context_print_table(ctx, schema);
}

/**
 * slc_cmd_services_show:
 * @ctx: the context
 * @args: the service id
 * @error: return location for a #GError
 *
 * `stdiolinkctl services show ID`: GET /api/services/ID.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_services_show(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_autofree char *id = stdiolink_client_escape_segment(args->positional[0]);
	g_autofree char *path = g_strdup_printf("/api/services/%s", id);

	return slc_context_show(ctx, path, render_service, error);
}

/**
 * slc_cmd_services_scan:
 * @ctx: the context
 * @args: `--no-revalidate`, `--no-restart-scheduling`, `--stop-invalid`, `--no-wait`
 * @error: return location for a #GError
 *
 * `stdiolinkctl services scan`: POST /api/services/scan as a job (`{"revalidateProjects",
 * "restartScheduling", "stopInvalidProjects"}`), then follows it to its end and prints its
 * counters; see slc_jobs_run().
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_services_scan(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_autoptr(JsonObject) object = json_object_new();
	g_autoptr(JsonNode) body = NULL;

	json_object_set_boolean_member(object, "revalidateProjects", !args->no_revalidate);
	json_object_set_boolean_member(object, "restartScheduling",
				       !args->no_restart_scheduling);
	json_object_set_boolean_member(object, "stopInvalidProjects", args->stop_invalid);
	body = stdiolink_json_node_new_object(g_steal_pointer(&object));
	return slc_jobs_run(ctx, "/api/services/scan", body, !args->no_wait, error);
}
