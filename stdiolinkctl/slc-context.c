#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <stdio.h>

#include "slc-context.h"

G_DEFINE_QUARK(slc-error-quark, slc_error)

/**
 * slc_error_to_exit_status:
 * @error: the error a command failed with
 *
 * Returns: the exit status for @error: the code of an %SLC_ERROR, 1 for anything else
 * (a %STDIOLINK_ERROR means the server said no)
 */
int
slc_error_to_exit_status(const GError *error)
{
	if (error->domain == SLC_ERROR)
		return error->code;
	return SLC_ERROR_FAILED;
}

/**
 * slc_args_clear:
 * @args: parsed verb arguments
 *
 * Frees what slc_commands_parse_args() stored in @args.
 */
void
slc_args_clear(SlcArgs *args)
{
	g_clear_pointer(&args->positional, g_strfreev);
	g_clear_pointer(&args->project, g_free);
	g_clear_pointer(&args->config, g_free);
	g_clear_pointer(&args->config_file, g_free);
	g_clear_pointer(&args->file, g_free);
	g_clear_pointer(&args->id, g_free);
	g_clear_pointer(&args->name, g_free);
	g_clear_pointer(&args->service, g_free);
	g_clear_pointer(&args->schedule, g_free);
	g_clear_pointer(&args->set, g_strfreev);
	g_clear_pointer(&args->types, g_strfreev);
	g_clear_pointer(&args->version, g_free);
	g_clear_pointer(&args->template_name, g_free);
	g_clear_pointer(&args->description, g_free);
	g_clear_pointer(&args->author, g_free);
	g_clear_pointer(&args->kind, g_free);
	g_clear_pointer(&args->status, g_free);
}

typedef struct {
	GMainLoop *loop;
	GAsyncResult *res;
} SlcWait;

static void
request_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	SlcWait *wait = user_data;

	wait->res = g_object_ref(res);
	g_main_loop_quit(wait->loop);
}

static gboolean
raw_is_json(GBytes *raw_body)
{
	g_autoptr(JsonNode) node = NULL;
	gsize size = 0;
	const char *data;

	if (raw_body == NULL)
		return FALSE;
	data = g_bytes_get_data(raw_body, &size);
	if (size == 0)
		return FALSE;
	node = stdiolink_json_parse(data, (gssize)size, NULL);
	return node != NULL;
}

/**
 * slc_context_print_error_body:
 * @ctx: the context
 * @status: the HTTP status of a refused request
 * @raw_body: (nullable): the body of the answer
 *
 * The daemon answered with an error: with `--json` its JSON body is the answer, and is
 * printed on stdout; a body that is not JSON (a proxy's page) is not.
 */
void
slc_context_print_error_body(SlcContext *ctx, guint status, GBytes *raw_body)
{
	if (ctx->json && status >= 400 && raw_is_json(raw_body))
		slc_context_print_raw(ctx, raw_body);
}

/**
 * slc_context_take_error:
 * @ctx: the context
 * @transport_error: (transfer full): what a request failed with
 * @error: return location for a #GError
 *
 * A server error (%STDIOLINK_ERROR) and a cancellation stay as they are; anything else
 * means the daemon could not be reached or did not speak HTTP, and becomes
 * %SLC_ERROR_UNREACHABLE with a hint on how to start the daemon.
 */
void
slc_context_take_error(SlcContext *ctx, GError *transport_error, GError **error)
{
	g_autoptr(GError) local_error = transport_error;

	if (local_error->domain == STDIOLINK_ERROR ||
	    g_error_matches(local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		g_propagate_error(error, g_steal_pointer(&local_error));
		return;
	}
	g_set_error(error,
		    SLC_ERROR,
		    SLC_ERROR_UNREACHABLE,
		    /* TRANSLATORS: the first %s is a URL, the second why it failed */
		    _("cannot reach stdiolinkd at %s: %s\n"
		      "Is the daemon running? Start it with “stdiolinkd”, "
		      "or give its address with --url or STDIOLINK_URL."),
		    ctx->url,
		    local_error->message);
}

/**
 * slc_context_request_async:
 * @ctx: the context
 * @method: the HTTP method
 * @path: the escaped path and query
 * @body: (nullable): a JSON body
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the answer
 * @user_data: data for @callback
 *
 * The asynchronous form of slc_context_request(), for commands that keep running (a
 * follow loop); finish with slc_context_request_finish().
 */
void
slc_context_request_async(SlcContext *ctx,
			  const char *method,
			  const char *path,
			  JsonNode *body,
			  GCancellable *cancellable,
			  GAsyncReadyCallback callback,
			  gpointer user_data)
{
	stdiolink_client_request_async(ctx->client, method, path, body, cancellable, callback,
				       user_data);
}

/**
 * slc_context_request_finish:
 * @ctx: the context
 * @res: the #GAsyncResult passed to the callback
 * @raw_body: (out) (optional) (transfer full): the response body as received
 * @error: return location for a #GError
 *
 * See slc_context_request() for what happens to errors.
 *
 * Returns: (transfer full) (nullable): the parsed body; %NULL for an empty body or on error
 */
JsonNode *
slc_context_request_finish(SlcContext *ctx, GAsyncResult *res, GBytes **raw_body, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	g_autoptr(GBytes) raw = NULL;
	g_autoptr(JsonNode) node = NULL;
	guint status = 0;

	node = stdiolink_client_request_finish_full(ctx->client, res, &status, &raw,
						    &local_error);

	if (local_error != NULL && local_error->domain == STDIOLINK_ERROR)
		slc_context_print_error_body(ctx, status, raw);
	if (local_error != NULL) {
		slc_context_take_error(ctx, g_steal_pointer(&local_error), error);
		return NULL;
	}

	if (raw_body != NULL)
		*raw_body = g_steal_pointer(&raw);
	return g_steal_pointer(&node);
}

/**
 * slc_context_request:
 * @ctx: the context
 * @method: the HTTP method
 * @path: the escaped path and query, e.g. `/api/projects/demo`
 * @body: (nullable): a JSON body
 * @raw_body: (out) (optional) (transfer full): the response body as received
 * @error: return location for a #GError
 *
 * Sends one request and runs the main loop until it is answered. A server error stays a
 * %STDIOLINK_ERROR (and with `--json` its body is printed on stdout: it is the API's
 * answer); a transport failure becomes %SLC_ERROR_UNREACHABLE with a hint on how to start
 * the daemon.
 *
 * Returns: (transfer full) (nullable): the parsed body; %NULL for an empty body or on error
 */
JsonNode *
slc_context_request(SlcContext *ctx,
		    const char *method,
		    const char *path,
		    JsonNode *body,
		    GBytes **raw_body,
		    GError **error)
{
	SlcWait wait = {ctx->loop, NULL};
	JsonNode *node;

	slc_context_request_async(ctx, method, path, body, NULL, request_done_cb, &wait);
	g_main_loop_run(ctx->loop);
	node = slc_context_request_finish(ctx, wait.res, raw_body, error);
	g_clear_object(&wait.res);
	return node;
}

/**
 * slc_context_print_raw:
 * @ctx: the context
 * @raw_body: (nullable): a response body
 *
 * Writes the body to stdout byte for byte, followed by a newline if it has none.
 */
void
slc_context_print_raw(SlcContext *ctx, GBytes *raw_body)
{
	gsize size = 0;
	const char *data;

	if (raw_body == NULL)
		return;
	data = g_bytes_get_data(raw_body, &size);
	if (size == 0)
		return;
	fwrite(data, 1, size, stdout);
	if (data[size - 1] != '\n')
		fputc('\n', stdout);
	fflush(stdout);
}

/**
 * slc_context_print_table:
 * @ctx: the context
 * @table: a table
 *
 * Prints @table to stdout, coloured if the context allows it.
 */
void
slc_context_print_table(SlcContext *ctx, SlcTable *table)
{
	g_autofree char *text = slc_table_render(table, ctx->colour);

	fputs(text, stdout);
}

/**
 * slc_context_action:
 * @ctx: the context
 * @method: the HTTP method
 * @path: the escaped path and query
 * @body: (nullable): a JSON body
 * @answer: (out) (transfer full) (nullable): the parsed answer, %NULL if it was empty
 * @error: return location for a #GError
 *
 * The shape of every command that changes something: send the request, print the answer
 * verbatim with `--json`, and hand it to the caller for the human message.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_context_action(SlcContext *ctx,
		   const char *method,
		   const char *path,
		   JsonNode *body,
		   JsonNode **answer,
		   GError **error)
{
	g_autoptr(GBytes) raw = NULL;
	g_autoptr(JsonNode) node = slc_context_request(ctx, method, path, body, &raw, error);

	if (node == NULL && raw == NULL)
		return FALSE;
	if (ctx->json)
		slc_context_print_raw(ctx, raw);
	*answer = g_steal_pointer(&node);
	return TRUE;
}

/**
 * slc_context_show:
 * @ctx: the context
 * @path: the escaped path to GET
 * @render: prints the human form of the answer
 * @error: return location for a #GError
 *
 * The shape of every read-only command: GET @path, then print the body verbatim with
 * `--json` or call @render.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_context_show(SlcContext *ctx, const char *path, SlcRenderFunc render, GError **error)
{
	g_autoptr(GBytes) raw = NULL;
	g_autoptr(JsonNode) node = slc_context_request(ctx, "GET", path, NULL, &raw, error);

	if (node == NULL && raw == NULL)
		return FALSE;
	if (ctx->json) {
		slc_context_print_raw(ctx, raw);
		return TRUE;
	}
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
		g_set_error_literal(error,
				    SLC_ERROR,
				    SLC_ERROR_FAILED,
				    _("the daemon sent an unexpected answer"));
		return FALSE;
	}
	render(ctx, node);
	return TRUE;
}

typedef struct {
	SlcInterruptFunc func;
	gpointer user_data;
} SlcInterrupt;

static gboolean
interrupt_cb(gpointer user_data)
{
	SlcInterrupt *interrupt = user_data;

	interrupt->func(interrupt->user_data);
	return G_SOURCE_CONTINUE;
}

/**
 * slc_context_on_interrupt:
 * @func: called on the main loop when SIGINT arrives
 * @user_data: data for @func
 *
 * A command that runs until Ctrl+C ends cleanly (exit status 0) instead of dying by the
 * signal: @func cancels what is in flight and lets the loop finish. Remove the handler
 * with g_source_remove().
 *
 * Returns: the source id of the handler
 */
guint
slc_context_on_interrupt(SlcInterruptFunc func, gpointer user_data)
{
	SlcInterrupt *interrupt = g_new0(SlcInterrupt, 1);

	interrupt->func = func;
	interrupt->user_data = user_data;
	return g_unix_signal_add_full(G_PRIORITY_DEFAULT, SIGINT, interrupt_cb, interrupt, g_free);
}

/**
 * slc_format_bytes:
 * @root: (nullable): a node
 * @path: see slc_json_lookup()
 *
 * Returns: (transfer full): the byte count at @path in binary units (“12.3 MiB”), or `-`
 */
char *
slc_format_bytes(JsonNode *root, const char *path)
{
	JsonNode *node = slc_json_lookup(root, path);
	double value;

	if (!stdiolink_json_node_is_number(node))
		return g_strdup("-");
	value = stdiolink_json_node_get_number(node);
	if (value < 0)
		return g_strdup("-");
	return g_format_size_full((guint64)value, G_FORMAT_SIZE_IEC_UNITS);
}

/**
 * slc_format_percent:
 * @root: (nullable): a node
 * @path: see slc_json_lookup()
 *
 * Returns: (transfer full): the percentage at @path with one decimal (“12.5%”), or `-`
 */
char *
slc_format_percent(JsonNode *root, const char *path)
{
	JsonNode *node = slc_json_lookup(root, path);

	if (!stdiolink_json_node_is_number(node))
		return g_strdup("-");
	/* TRANSLATORS: a CPU share, e.g. "12.5%" */
	return g_strdup_printf(_("%.1f%%"), stdiolink_json_node_get_number(node));
}

/**
 * slc_json_lookup:
 * @root: (nullable): a node
 * @path: member names joined with `.`, e.g. `counts.projects.total`
 *
 * Returns: (transfer none) (nullable): the node at @path, %NULL if any step is missing
 */
JsonNode *
slc_json_lookup(JsonNode *root, const char *path)
{
	g_auto(GStrv) steps = g_strsplit(path, ".", -1);
	JsonNode *node = root;

	for (guint i = 0; steps[i] != NULL; i++) {
		if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
			return NULL;
		node = json_object_get_member(json_node_get_object(node), steps[i]);
	}
	return node;
}

/**
 * slc_json_get_string:
 * @root: (nullable): a node
 * @path: see slc_json_lookup()
 *
 * Returns: (nullable): the string at @path, %NULL if absent or not a string
 */
const char *
slc_json_get_string(JsonNode *root, const char *path)
{
	JsonNode *node = slc_json_lookup(root, path);

	return stdiolink_json_node_is_string(node) ? json_node_get_string(node) : NULL;
}

/**
 * slc_json_get_array:
 * @root: (nullable): a node
 * @path: see slc_json_lookup()
 *
 * Returns: (transfer none) (nullable): the array at @path, %NULL if absent or another type
 */
JsonArray *
slc_json_get_array(JsonNode *root, const char *path)
{
	JsonNode *node = slc_json_lookup(root, path);

	if (node == NULL || !JSON_NODE_HOLDS_ARRAY(node))
		return NULL;
	return json_node_get_array(node);
}

/**
 * slc_json_display:
 * @root: (nullable): a node
 * @path: see slc_json_lookup()
 *
 * Returns: (transfer full): the value at @path as a table shows it: strings as they are,
 * numbers in shortest form, booleans as a translated yes/no, objects and arrays as compact
 * JSON, and `-` when there is no value
 */
char *
slc_json_display(JsonNode *root, const char *path)
{
	JsonNode *node = slc_json_lookup(root, path);

	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return g_strdup("-");
	if (stdiolink_json_node_is_string(node))
		return g_strdup(json_node_get_string(node));
	if (stdiolink_json_node_is_bool(node))
		return g_strdup(json_node_get_boolean(node) ? _("yes") : _("no"));
	if (stdiolink_json_node_is_number(node))
		return stdiolink_json_format_number(stdiolink_json_node_get_number(node));
	return stdiolink_json_to_string(node, STDIOLINK_JSON_COMPACT);
}

/**
 * slc_json_display_strings:
 * @root: (nullable): a node
 * @path: see slc_json_lookup()
 *
 * Returns: (transfer full): the strings of the array at @path joined with `, ` (other
 * items skipped), or `-` when there are none
 */
char *
slc_json_display_strings(JsonNode *root, const char *path)
{
	JsonArray *array = slc_json_get_array(root, path);
	g_autoptr(GString) out = g_string_new(NULL);

	for (guint i = 0; array != NULL && i < json_array_get_length(array); i++) {
		JsonNode *node = json_array_get_element(array, i);

		if (!stdiolink_json_node_is_string(node))
			continue;
		if (out->len > 0)
			g_string_append(out, ", ");
		g_string_append(out, json_node_get_string(node));
	}
	return g_strdup(out->len > 0 ? out->str : "-");
}

/**
 * slc_status_style:
 * @status: (nullable): a status as the API spells it
 *
 * Returns: the colour a status is shown in
 */
SlcStyle
slc_status_style(const char *status)
{
	if (g_strcmp0(status, "ok") == 0 || g_strcmp0(status, "running") == 0 ||
	    g_strcmp0(status, "succeeded") == 0)
		return SLC_STYLE_GOOD;
	if (g_strcmp0(status, "starting") == 0 || g_strcmp0(status, "queued") == 0)
		return SLC_STYLE_WARN;
	if (g_strcmp0(status, "invalid") == 0 || g_strcmp0(status, "failed") == 0)
		return SLC_STYLE_BAD;
	if (g_strcmp0(status, "disabled") == 0 || g_strcmp0(status, "stopped") == 0 ||
	    g_strcmp0(status, "canceled") == 0)
		return SLC_STYLE_DIM;
	return SLC_STYLE_NONE;
}

/**
 * slc_fields_add:
 * @fields: a two-column table without headers
 * @label: the translated label
 * @value: (nullable): the value
 * @style: the value's colour
 *
 * Adds one `label: value` line of a `show` command.
 */
void
slc_fields_add(SlcTable *fields, const char *label, const char *value, SlcStyle style)
{
	/* TRANSLATORS: a label in "show" output, e.g. "Name:"; some languages want a space */
	g_autofree char *with_colon = g_strdup_printf(_("%s:"), label);

	slc_table_add_cell(fields, with_colon, SLC_STYLE_NONE);
	slc_table_add_cell(fields, value, style);
}

/**
 * slc_fields_add_status:
 * @fields: a two-column table without headers
 * @label: the translated label
 * @root: (nullable): a node
 * @path: see slc_json_lookup()
 *
 * Adds `label: status`, coloured by slc_status_style().
 */
void
slc_fields_add_status(SlcTable *fields, const char *label, JsonNode *root, const char *path)
{
	const char *status = slc_json_get_string(root, path);

	slc_fields_add(fields, label, status != NULL ? status : "-", slc_status_style(status));
}

/**
 * slc_fields_add_json:
 * @fields: a two-column table without headers
 * @label: the translated label
 * @root: (nullable): a node
 * @path: see slc_json_lookup()
 *
 * Adds `label: value` with the value shown as slc_json_display() shows it.
 */
void
slc_fields_add_json(SlcTable *fields, const char *label, JsonNode *root, const char *path)
{
	g_autofree char *value = slc_json_display(root, path);

	slc_fields_add(fields, label, value, SLC_STYLE_NONE);
}
