#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "slc-commands.h"

/*
 * Authoring services from the shell: `services create|delete|files|cat|put|rm`, one API
 * call each (put may need two: replace, else create).
 */

static char *
service_path(const char *id, const char *action)
{
	g_autofree char *escaped = stdiolink_client_escape_segment(id);

	if (action == NULL)
		return g_strdup_printf("/api/services/%s", escaped);
	return g_strdup_printf("/api/services/%s/%s", escaped, action);
}

/* `/api/services/<id>/files/content?path=<file>`; `/` in @file is escaped too */
static char *
content_path(const char *id, const char *file)
{
	g_autofree char *base = service_path(id, "files/content");
	g_autofree char *query = g_uri_escape_string(file, NULL, FALSE);

	return g_strdup_printf("%s?path=%s", base, query);
}

/**
 * slc_cmd_services_create:
 * @ctx: the context
 * @args: the new service's id; `--name` (default: the id), `--service-version` (default:
 *   1.0; `--version` is the program's), `--template`, `--description`, `--author`
 * @error: return location for a #GError
 *
 * `stdiolinkctl services create ID [OPTIONS]`: POST /api/services.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_services_create(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_autoptr(JsonObject) body = json_object_new();
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(JsonNode) answer = NULL;

	json_object_set_string_member(body, "id", args->positional[0]);
	json_object_set_string_member(body, "name",
				      args->name != NULL ? args->name : args->positional[0]);
	json_object_set_string_member(body, "version",
				      args->version != NULL ? args->version : "1.0");
	if (args->template_name != NULL)
		json_object_set_string_member(body, "template", args->template_name);
	if (args->description != NULL)
		json_object_set_string_member(body, "description", args->description);
	if (args->author != NULL)
		json_object_set_string_member(body, "author", args->author);
	node = stdiolink_json_node_new_object(g_steal_pointer(&body));

	if (!slc_context_action(ctx, "POST", "/api/services", node, &answer, error))
		return FALSE;
	if (!ctx->json)
		/* TRANSLATORS: the first %s is a service id, the second a folder */
		printf(_("Created service “%s” in %s.\n"), args->positional[0],
		       slc_json_get_string(answer, "serviceDir"));
	return TRUE;
}

/**
 * slc_cmd_services_delete:
 * @ctx: the context
 * @args: the service id; `--force`
 * @error: return location for a #GError
 *
 * `stdiolinkctl services delete ID [--force]`: DELETE /api/services/ID. Without
 * `--force` the daemon refuses while projects use the service; with it those projects
 * become invalid and their instances are stopped.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_services_delete(SlcContext *ctx, SlcArgs *args, GError **error)
{
	const char *id = args->positional[0];
	g_autofree char *base = service_path(id, NULL);
	g_autofree char *path = g_strconcat(base, args->force ? "?force=true" : "", NULL);
	g_autoptr(JsonNode) answer = NULL;
	g_autoptr(GError) local_error = NULL;

	if (!slc_context_action(ctx, "DELETE", path, NULL, &answer, &local_error)) {
		if (args->force ||
		    !g_error_matches(local_error, STDIOLINK_ERROR, STDIOLINK_ERROR_CONFLICT)) {
			g_propagate_error(error, g_steal_pointer(&local_error));
			return FALSE;
		}
		/* the same failure, with the way round it */
		g_set_error(error, local_error->domain, local_error->code, "%s\n%s",
			    local_error->message,
			    _("Use --force to delete it anyway; its projects become invalid."));
		return FALSE;
	}
	if (!ctx->json)
		printf(_("Deleted service “%s”.\n"), id);
	return TRUE;
}

static void
render_files(SlcContext *ctx, JsonNode *root)
{
	JsonArray *files = slc_json_get_array(root, "files");
	g_autoptr(SlcTable) table = slc_table_new(4);

	if (files == NULL || json_array_get_length(files) == 0) {
		printf("%s\n", _("The service folder holds no files."));
		return;
	}

	/* TRANSLATORS: table column headers of a service's files */
	slc_table_add_header(table, _("PATH"));
	slc_table_add_header(table, _("SIZE"));
	slc_table_add_header(table, _("MODIFIED"));
	slc_table_add_header(table, _("TYPE"));
	for (guint i = 0; i < json_array_get_length(files); i++) {
		JsonNode *file = json_array_get_element(files, i);
		g_autofree char *path = slc_json_display(file, "path");
		g_autofree char *size = slc_format_bytes(file, "size");
		g_autofree char *modified = slc_json_display(file, "modifiedAt");
		g_autofree char *type = slc_json_display(file, "type");

		slc_table_add_row(table, path, size, modified, type, NULL);
	}
	slc_context_print_table(ctx, table);
}

/**
 * slc_cmd_services_files:
 * @ctx: the context
 * @args: the service id
 * @error: return location for a #GError
 *
 * `stdiolinkctl services files ID`: GET /api/services/ID/files.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_services_files(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_autofree char *path = service_path(args->positional[0], "files");

	return slc_context_show(ctx, path, render_files, error);
}

static void
render_content(SlcContext *ctx, JsonNode *root)
{
	const char *content = slc_json_get_string(root, "content");

	if (content != NULL)
		fputs(content, stdout);
}

/**
 * slc_cmd_services_cat:
 * @ctx: the context
 * @args: the service id and the file's path in its folder
 * @error: return location for a #GError
 *
 * `stdiolinkctl services cat ID PATH`: prints the file as it is (GET .../files/content).
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_services_cat(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_autofree char *path = content_path(args->positional[0], args->positional[1]);

	return slc_context_show(ctx, path, render_content, error);
}

static char *
read_stream(FILE *stream, gsize *length)
{
	GString *text = g_string_new(NULL);
	char buf[8192];
	size_t n;

	while ((n = fread(buf, 1, sizeof(buf), stream)) > 0)
		g_string_append_len(text, buf, (gssize)n);
	*length = text->len;
	return g_string_free(text, FALSE);
}

/* the text to upload: --file FILE, or standard input; it must be UTF-8 */
static char *
read_upload(SlcArgs *args, GError **error)
{
	g_autofree char *text = NULL;
	gsize length = 0;

	if (args->file != NULL && !g_str_equal(args->file, "-")) {
		if (!g_file_get_contents(args->file, &text, &length, error))
			return NULL;
	} else {
		text = read_stream(stdin, &length);
	}
	if (memchr(text, '\0', length) != NULL || !g_utf8_validate(text, (gssize)length, NULL)) {
		g_set_error_literal(error, SLC_ERROR, SLC_ERROR_USAGE,
				    _("the content is not UTF-8 text; service files must be text"));
		return NULL;
	}
	return g_steal_pointer(&text);
}

static JsonNode *
content_body(const char *text)
{
	JsonObject *body = json_object_new();

	json_object_set_string_member(body, "content", text);
	return stdiolink_json_node_new_object(body);
}

/*
 * PUT replaces an existing file; a missing one is created with POST instead. The first
 * answer is kept quiet so that --json prints one document.
 */
static JsonNode *
replace_or_create(SlcContext *ctx, const char *path, JsonNode *body, gboolean *created,
		  GError **error)
{
	g_autoptr(GError) local_error = NULL;
	g_autoptr(GBytes) raw = NULL;
	g_autoptr(JsonNode) answer = NULL;
	gboolean json = ctx->json;

	ctx->json = FALSE;
	answer = slc_context_request(ctx, "PUT", path, body, &raw, &local_error);
	ctx->json = json;
	*created = FALSE;
	if (local_error == NULL) {
		if (ctx->json)
			slc_context_print_raw(ctx, raw);
		return g_steal_pointer(&answer);
	}
	if (!g_error_matches(local_error, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND) ||
	    g_strcmp0(local_error->message, "file not found") != 0) {
		g_propagate_error(error, g_steal_pointer(&local_error));
		return NULL;
	}
	*created = TRUE;
	if (!slc_context_action(ctx, "POST", path, body, &answer, error))
		return NULL;
	return g_steal_pointer(&answer);
}

/**
 * slc_cmd_services_put:
 * @ctx: the context
 * @args: the service id and the file's path; `--file FILE` (default: standard input)
 * @error: return location for a #GError
 *
 * `stdiolinkctl services put ID PATH [--file FILE]`: writes a file of the service,
 * replacing it (PUT) or creating it and its folders (POST). Writing `manifest.json` or
 * `config.schema.json` reloads the service.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_services_put(SlcContext *ctx, SlcArgs *args, GError **error)
{
	const char *id = args->positional[0];
	const char *file = args->positional[1];
	g_autofree char *path = content_path(id, file);
	g_autofree char *text = read_upload(args, error);
	g_autoptr(JsonNode) body = NULL;
	g_autoptr(JsonNode) answer = NULL;
	g_autofree char *size = NULL;
	gboolean created = FALSE;

	if (text == NULL)
		return FALSE;
	body = content_body(text);
	answer = replace_or_create(ctx, path, body, &created, error);
	if (answer == NULL)
		return FALSE;
	if (ctx->json)
		return TRUE;
	size = slc_json_display(answer, "size");
	if (created)
		/* TRANSLATORS: “Created run in service “demo” (120 bytes).” */
		printf(_("Created %s in service “%s” (%s bytes).\n"), file, id, size);
	else
		printf(_("Wrote %s in service “%s” (%s bytes).\n"), file, id, size);
	return TRUE;
}

/**
 * slc_cmd_services_rm:
 * @ctx: the context
 * @args: the service id and the file's path
 * @error: return location for a #GError
 *
 * `stdiolinkctl services rm ID PATH`: DELETE .../files/content. The daemon refuses the
 * core files `manifest.json`, `index.js` and `config.schema.json`.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_services_rm(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_autofree char *path = content_path(args->positional[0], args->positional[1]);
	g_autoptr(JsonNode) answer = NULL;

	if (!slc_context_action(ctx, "DELETE", path, NULL, &answer, error))
		return FALSE;
	if (!ctx->json)
		printf(_("Deleted %s from service “%s”.\n"), args->positional[1],
		       args->positional[0]);
	return TRUE;
}
