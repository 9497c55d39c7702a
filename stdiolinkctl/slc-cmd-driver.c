#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include <libsoup/soup.h>

#include "slc-commands.h"

/*
 * `driver exec` runs one command on a driver through the daemon's DriverLab WebSocket, the
 * way the web console does: connect with the keepalive profile, wait for the driver's
 * metadata, send the command, print its events as they come and its final result, then
 * close the driver's stdin so that it exits normally.
 */

/* how long to wait for the driver to exit after the result before closing anyway */
#define EXIT_GRACE_MS 2000

typedef enum {
	EXEC_WAIT_META, /* the command is sent once the meta query is answered */
	EXEC_RUNNING,
	EXEC_RUNNING_NO_META, /* meta failed: the daemon may take our `done` for meta */
	EXEC_FINISHED,
} ExecState;

typedef struct {
	SlcContext *ctx;
	const char *driver_id;
	const char *command;
	JsonNode *data;
	SoupSession *session;
	SoupMessage *msg;
	SoupWebsocketConnection *ws;
	ExecState state;
	GError *error; /* why it failed; none after a `done` */
	guint grace_id;
	gboolean interrupted;
} SlcExec;

static void
exec_clear(SlcExec *exec)
{
	g_clear_handle_id(&exec->grace_id, g_source_remove);
	if (exec->ws != NULL) {
		SoupWebsocketState state = soup_websocket_connection_get_state(exec->ws);

		g_signal_handlers_disconnect_by_data(exec->ws, exec);
		if (state == SOUP_WEBSOCKET_STATE_OPEN)
			soup_websocket_connection_close(exec->ws, SOUP_WEBSOCKET_CLOSE_NORMAL,
							NULL);
	}
	g_clear_object(&exec->ws);
	g_clear_object(&exec->msg);
	g_clear_object(&exec->session);
	g_clear_pointer(&exec->data, json_node_unref);
	g_clear_error(&exec->error);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SlcExec, exec_clear)

static void
exec_fail(SlcExec *exec, SlcError code, const char *message)
{
	if (exec->error == NULL)
		g_set_error_literal(&exec->error, SLC_ERROR, code, message);
}

static void
exec_quit(SlcExec *exec)
{
	exec->state = EXEC_FINISHED;
	g_main_loop_quit(exec->ctx->loop);
}

/* ---- printing -------------------------------------------------------------------------- */

static void
print_json_line(JsonNode *node)
{
	g_autofree char *text = stdiolink_json_to_string(node, STDIOLINK_JSON_COMPACT);

	printf("%s\n", text);
	fflush(stdout);
}

/* `[name] data` for a named event, `[event] data` for another */
static void
print_event(JsonNode *data)
{
	JsonObject *tagged = JSON_NODE_HOLDS_OBJECT(data) ? json_node_get_object(data) : NULL;
	const char *name = tagged != NULL ? stdiolink_json_object_get_string(tagged, "event")
					  : NULL;
	JsonNode *payload = name != NULL && json_object_has_member(tagged, "data")
				? json_object_get_member(tagged, "data")
				: data;
	g_autofree char *text = stdiolink_json_to_string(payload, STDIOLINK_JSON_COMPACT);

	printf("[%s] %s\n", name != NULL ? name : "event", text);
	fflush(stdout);
}

static void
print_result(JsonNode *data)
{
	g_autofree char *text = NULL;

	if (JSON_NODE_HOLDS_NULL(data)) {
		printf("%s\n", _("Done."));
		return;
	}
	text = stdiolink_json_to_string(data, STDIOLINK_JSON_PRETTY);
	fputs(text, stdout);
}

/* the driver's message for a failed command: `data.message`, else the data itself */
static char *
error_text(StdiolinkJsonlResponse *response)
{
	JsonObject *object = JSON_NODE_HOLDS_OBJECT(response->data)
				 ? json_node_get_object(response->data)
				 : NULL;
	const char *message = object != NULL ? stdiolink_json_object_get_string(object, "message")
					     : NULL;

	if (message != NULL)
		return g_strdup(message);
	return stdiolink_json_to_string(response->data, STDIOLINK_JSON_COMPACT);
}

/* ---- the exchange ---------------------------------------------------------------------- */

static gboolean
grace_expired_cb(gpointer user_data)
{
	SlcExec *exec = user_data;

	exec->grace_id = 0;
	g_main_loop_quit(exec->ctx->loop);
	return G_SOURCE_REMOVE;
}

/* the result is in: let the driver exit on EOF, and stop waiting after a while */
static void
finish(SlcExec *exec)
{
	exec->state = EXEC_FINISHED;
	soup_websocket_connection_send_text(exec->ws, "{\"type\":\"cancel\"}");
	exec->grace_id = g_timeout_add(EXIT_GRACE_MS, grace_expired_cb, exec);
}

static void
send_command(SlcExec *exec, ExecState next)
{
	g_autoptr(JsonObject) message = json_object_new();
	g_autofree char *text = NULL;

	json_object_set_string_member(message, "type", "exec");
	json_object_set_string_member(message, "cmd", exec->command);
	if (exec->data != NULL)
		json_object_set_member(message, "data", json_node_copy(exec->data));
	text = stdiolink_json_object_to_string(message, STDIOLINK_JSON_COMPACT);
	soup_websocket_connection_send_text(exec->ws, text);
	exec->state = next;
}

static void
handle_response(SlcExec *exec, StdiolinkJsonlResponse *response, JsonNode *line)
{
	g_autofree char *message = NULL;

	if (exec->ctx->json)
		print_json_line(line);
	if (response->status == STDIOLINK_JSONL_EVENT) {
		if (!exec->ctx->json)
			print_event(response->data);
		return;
	}
	if (response->status == STDIOLINK_JSONL_DONE) {
		if (!exec->ctx->json)
			print_result(response->data);
	} else {
		message = error_text(response);
		g_set_error(&exec->error, SLC_ERROR, SLC_ERROR_FAILED,
			    /* TRANSLATORS: the driver's error code, then its message */
			    _("the driver answered error %lld: %s"),
			    (long long)response->code, message);
	}
	finish(exec);
}

static void
handle_stdout(SlcExec *exec, JsonNode *line)
{
	g_autofree char *text = stdiolink_json_to_string(line, STDIOLINK_JSON_COMPACT);
	g_autoptr(StdiolinkJsonlResponse) response = NULL;

	response = stdiolink_jsonl_response_parse(text, -1, NULL);

	/* an answer to the meta query that is not `done`: send the command now */
	if (exec->state == EXEC_WAIT_META) {
		if (response != NULL && stdiolink_jsonl_response_is_terminal(response))
			send_command(exec, EXEC_RUNNING_NO_META);
		return;
	}
	if (exec->state == EXEC_FINISHED)
		return;
	if (response == NULL) {
		/* not protocol: show it, out of the way of the results */
		if (exec->ctx->json)
			print_json_line(line);
		else
			g_printerr("%s\n", JSON_NODE_HOLDS_VALUE(line) ? json_node_get_string(line)
								       : text);
		return;
	}
	handle_response(exec, response, line);
}

/* a `meta` message after the command means the daemon took our `done` for the meta */
static void
handle_meta(SlcExec *exec, JsonObject *message)
{
	g_autoptr(StdiolinkJsonlResponse) response = NULL;
	g_autoptr(JsonObject) line = NULL;
	g_autoptr(JsonNode) node = NULL;
	JsonNode *meta = json_object_get_member(message, "meta");

	if (exec->state == EXEC_WAIT_META) {
		send_command(exec, EXEC_RUNNING);
		return;
	}
	if (exec->state != EXEC_RUNNING_NO_META)
		return;
	response = stdiolink_jsonl_response_new(STDIOLINK_JSONL_DONE, 0, meta);
	line = json_object_new();
	json_object_set_string_member(line, "status", "done");
	json_object_set_int_member(line, "code", 0);
	json_object_set_member(line, "data", json_node_copy(response->data));
	node = stdiolink_json_node_new_object(json_object_ref(line));
	handle_response(exec, response, node);
}

static void
handle_exited(SlcExec *exec, JsonObject *message)
{
	g_autofree char *text = NULL;

	if (exec->state == EXEC_FINISHED) {
		g_main_loop_quit(exec->ctx->loop);
		return;
	}
	text = g_strdup_printf(
	    /* TRANSLATORS: %s is the daemon's reason, e.g. “driver crashed”, then the code */
	    _("the driver ended before answering: %s (exit code %lld)"),
	    stdiolink_json_object_get_string(message, "reason"),
	    (long long)json_object_get_int_member_with_default(message, "exitCode", -1));
	exec_fail(exec, SLC_ERROR_FAILED, text);
	exec_quit(exec);
}

static void
handle_error(SlcExec *exec, JsonObject *message)
{
	const char *text = stdiolink_json_object_get_string(message, "message");

	/* without metadata the command can still run */
	if (g_strcmp0(text, "meta query timeout") == 0) {
		if (exec->state == EXEC_WAIT_META)
			send_command(exec, EXEC_RUNNING_NO_META);
		return;
	}
	exec_fail(exec, SLC_ERROR_FAILED, text != NULL ? text : _("DriverLab reported an error"));
	exec_quit(exec);
}

static void
message_cb(SoupWebsocketConnection *ws, gint type, GBytes *bytes, gpointer user_data)
{
	SlcExec *exec = user_data;
	gsize length = 0;
	const char *data = g_bytes_get_data(bytes, &length);
	g_autoptr(JsonNode) node = stdiolink_json_parse(data != NULL ? data : "", (gssize)length,
						       NULL);
	JsonObject *message;
	const char *kind;

	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
		return;
	message = json_node_get_object(node);
	kind = stdiolink_json_object_get_string(message, "type");
	if (g_strcmp0(kind, "stdout") == 0 && json_object_has_member(message, "message"))
		handle_stdout(exec, json_object_get_member(message, "message"));
	else if (g_strcmp0(kind, "meta") == 0)
		handle_meta(exec, message);
	else if (g_strcmp0(kind, "driver.exited") == 0)
		handle_exited(exec, message);
	else if (g_strcmp0(kind, "error") == 0)
		handle_error(exec, message);
}

static void
closed_cb(SoupWebsocketConnection *ws, gpointer user_data)
{
	SlcExec *exec = user_data;

	if (exec->state != EXEC_FINISHED)
		exec_fail(exec, SLC_ERROR_FAILED, _("the daemon closed the DriverLab connection"));
	g_main_loop_quit(exec->ctx->loop);
}

/* a refused upgrade is a plain HTTP status (driverlab.md 1) */
static void
fail_connect(SlcExec *exec, GError *connect_error)
{
	guint status = soup_message_get_status(exec->msg);
	g_autofree char *text = NULL;

	if (status == SOUP_STATUS_NOT_FOUND)
		text = g_strdup_printf(_("driver “%s” not found"), exec->driver_id);
	else if (status == 429)
		text = g_strdup(_("too many DriverLab connections; try again later"));
	else if (status != 0 && status != SOUP_STATUS_SWITCHING_PROTOCOLS)
		text = g_strdup_printf(_("the daemon refused the DriverLab connection: %u %s"),
				       status, soup_message_get_reason_phrase(exec->msg));
	if (text != NULL) {
		exec_fail(exec, SLC_ERROR_FAILED, text);
		return;
	}
	slc_context_take_error(exec->ctx, g_error_copy(connect_error), &exec->error);
}

static void
connected_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	SlcExec *exec = user_data;
	g_autoptr(GError) local_error = NULL;

	exec->ws = soup_session_websocket_connect_finish(SOUP_SESSION(source), res, &local_error);
	if (exec->ws == NULL) {
		if (!exec->interrupted)
			fail_connect(exec, local_error);
		exec_quit(exec);
		return;
	}
	soup_websocket_connection_set_max_incoming_payload_size(exec->ws, 16 * 1024 * 1024);
	g_signal_connect(exec->ws, "message", G_CALLBACK(message_cb), exec);
	g_signal_connect(exec->ws, "closed", G_CALLBACK(closed_cb), exec);
}

static void
interrupt_cb(gpointer user_data)
{
	SlcExec *exec = user_data;

	/* the daemon kills the driver when its connection goes */
	exec->interrupted = TRUE;
	exec_fail(exec, SLC_ERROR_FAILED, _("interrupted"));
	exec_quit(exec);
}

/* ---- arguments ------------------------------------------------------------------------- */

/* a mutable copy of @source's members (parsed objects are sealed) */
static JsonNode *
copy_object(JsonObject *source)
{
	JsonObject *object = json_object_new();
	g_autoptr(GList) names = json_object_get_members(source);

	for (GList *l = names; l != NULL; l = l->next)
		json_object_set_member(object, l->data,
				       json_node_copy(json_object_get_member(source, l->data)));
	return stdiolink_json_node_new_object(object);
}

/* `key=value`: the value as JSON if it parses, else as text; `a.b=1` nests */
static gboolean
add_key_value(JsonObject *data, const char *arg, GError **error)
{
	const char *eq = strchr(arg, '=');
	g_autofree char *key = NULL;
	g_auto(GStrv) parts = NULL;
	JsonNode *value;
	JsonObject *target = data;
	guint n;

	if (eq == NULL || eq == arg) {
		g_set_error(error, SLC_ERROR, SLC_ERROR_USAGE,
			    _("expected KEY=VALUE, not “%s”"), arg);
		return FALSE;
	}
	key = g_strndup(arg, (gsize)(eq - arg));
	parts = g_strsplit(key, ".", -1);
	n = g_strv_length(parts);
	for (guint i = 0; i + 1 < n; i++) {
		JsonNode *child = json_object_get_member(target, parts[i]);

		if (child != NULL && JSON_NODE_HOLDS_OBJECT(child))
			json_object_set_member(target, parts[i],
					       copy_object(json_node_get_object(child)));
		else
			json_object_set_object_member(target, parts[i], json_object_new());
		target = json_object_get_object_member(target, parts[i]);
	}
	value = stdiolink_json_parse(eq + 1, -1, NULL);
	if (value == NULL) {
		value = json_node_new(JSON_NODE_VALUE);
		json_node_set_string(value, eq + 1);
	}
	json_object_set_member(target, parts[n - 1], value);
	return TRUE;
}

/* --data, then the key=value arguments on top; NULL data when there is neither */
static gboolean
build_data(SlcArgs *args, JsonNode **data, GError **error)
{
	g_autoptr(JsonNode) node = NULL;

	*data = NULL;
	if (args->config != NULL) {
		g_autoptr(JsonNode) parsed = slc_parse_json_object(args->config, "--data", error);

		if (parsed == NULL)
			return FALSE;
		node = copy_object(json_node_get_object(parsed));
	}
	for (guint i = 2; args->positional[i] != NULL; i++) {
		if (node == NULL)
			node = stdiolink_json_node_new_object(json_object_new());
		if (!add_key_value(json_node_get_object(node), args->positional[i], error))
			return FALSE;
	}
	*data = g_steal_pointer(&node);
	return TRUE;
}

static char *
driverlab_url(SlcContext *ctx, const char *driver_id)
{
	g_autofree char *escaped = stdiolink_client_escape_segment(driver_id);
	const char *base = ctx->url;
	gsize length = strlen(base);

	while (length > 0 && base[length - 1] == '/')
		length--;
	return g_strdup_printf("%.*s/api/driverlab/%s?runMode=keepalive", (int)length, base,
			       escaped);
}

static SoupSession *
new_session(void)
{
	SoupSession *session = soup_session_new_with_options("user-agent",
							     "stdiolinkctl/" PACKAGE_VERSION, NULL);

	/* the daemon is local control traffic: never through a proxy */
	soup_session_set_proxy_resolver(session, NULL);
	return session;
}

/**
 * slc_cmd_driver_exec:
 * @ctx: the context
 * @args: DRIVER COMMAND, then KEY=VALUE arguments; `--data JSON`
 * @error: return location for a #GError
 *
 * `stdiolinkctl driver exec`: runs one command on a driver over the DriverLab WebSocket.
 * Events are printed as they arrive (`[name] data`), then the result; with `--json`, each
 * response line of the driver as one JSON line. A `done` exits 0, an `error` 1. The
 * WebSocket carries the same API token as every other request.
 *
 * Returns: %TRUE if the driver answered `done`
 */
gboolean
slc_cmd_driver_exec(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_auto(SlcExec) exec = {NULL};
	g_autofree char *url = NULL;
	const char *token = stdiolink_client_get_token(ctx->client);
	guint signal_id;

	exec.ctx = ctx;
	exec.driver_id = args->positional[0];
	exec.command = args->positional[1];
	if (!build_data(args, &exec.data, error))
		return FALSE;

	url = driverlab_url(ctx, exec.driver_id);
	exec.session = new_session();
	exec.msg = soup_message_new("GET", url);
	if (exec.msg == NULL) {
		g_set_error(error, SLC_ERROR, SLC_ERROR_USAGE, _("invalid driver id “%s”"),
			    exec.driver_id);
		return FALSE;
	}
	if (token != NULL) {
		g_autofree char *bearer = g_strconcat("Bearer ", token, NULL);

		soup_message_headers_replace(soup_message_get_request_headers(exec.msg),
					     "Authorization", bearer);
	}

	signal_id = slc_context_on_interrupt(interrupt_cb, &exec);
	soup_session_websocket_connect_async(exec.session, exec.msg, NULL, NULL,
					     G_PRIORITY_DEFAULT, NULL, connected_cb, &exec);
	g_main_loop_run(ctx->loop);
	g_source_remove(signal_id);

	if (exec.error != NULL) {
		g_propagate_error(error, g_steal_pointer(&exec.error));
		return FALSE;
	}
	return TRUE;
}

/* ---- drivers meta ---------------------------------------------------------------------- */

/**
 * slc_cmd_drivers_meta:
 * @ctx: the context
 * @args: ID
 * @error: return location for a #GError
 *
 * `stdiolinkctl drivers meta`: the driver's normalized metadata from GET
 * /api/drivers/{id}, indented (one compact document with `--json`).
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_drivers_meta(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_autofree char *escaped = stdiolink_client_escape_segment(args->positional[0]);
	g_autofree char *path = g_strconcat("/api/drivers/", escaped, NULL);
	g_autoptr(JsonNode) node = slc_context_request(ctx, "GET", path, NULL, NULL, error);
	g_autofree char *text = NULL;
	JsonNode *meta;

	if (node == NULL)
		return FALSE;
	meta = slc_json_lookup(node, "meta");
	if (meta == NULL || JSON_NODE_HOLDS_NULL(meta)) {
		g_set_error(error, SLC_ERROR, SLC_ERROR_FAILED,
			    _("driver “%s” has no metadata"), args->positional[0]);
		return FALSE;
	}
	text = stdiolink_json_to_string(meta, ctx->json ? STDIOLINK_JSON_COMPACT
						      : STDIOLINK_JSON_PRETTY);
	fputs(text, stdout);
	if (ctx->json)
		fputc('\n', stdout);
	return TRUE;
}

/* ---- drivers docs ---------------------------------------------------------------------- */

typedef struct {
	GMainLoop *loop;
	GAsyncResult *res;
} DocsWait;

static void
docs_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	DocsWait *wait = user_data;

	wait->res = g_object_ref(res);
	g_main_loop_quit(wait->loop);
}

/**
 * slc_cmd_drivers_docs:
 * @ctx: the context
 * @args: ID, then an optional FORMAT (markdown, html, openapi, ts)
 * @error: return location for a #GError
 *
 * `stdiolinkctl drivers docs`: GET /api/drivers/{id}/docs, printed as it comes (Markdown
 * by default). The body is text, so it is read without the JSON check of other commands.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_drivers_docs(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_autofree char *escaped = stdiolink_client_escape_segment(args->positional[0]);
	const char *format = args->positional[1];
	g_autofree char *escaped_format = format != NULL
						  ? g_uri_escape_string(format, NULL, FALSE)
						  : NULL;
	g_autofree char *path = g_strconcat("/api/drivers/", escaped, "/docs",
					    format != NULL ? "?format=" : "", escaped_format, NULL);
	DocsWait wait = {ctx->loop, NULL};
	g_autoptr(GError) local_error = NULL;
	g_autoptr(GBytes) raw = NULL;
	g_autoptr(JsonNode) node = NULL;
	guint status = 0;

	if (format != NULL && args->positional[2] != NULL) {
		g_set_error(error, SLC_ERROR, SLC_ERROR_USAGE,
			    _("unexpected argument “%s” for “drivers docs”"),
			    args->positional[2]);
		return FALSE;
	}
	stdiolink_client_request_async(ctx->client, "GET", path, NULL, NULL, docs_done_cb, &wait);
	g_main_loop_run(ctx->loop);
	node = stdiolink_client_request_finish_full(ctx->client, wait.res, &status, &raw,
						    &local_error);
	g_clear_object(&wait.res);

	/* a text body on success is the answer, not a failure to parse JSON */
	if (local_error != NULL && status != SOUP_STATUS_OK) {
		slc_context_take_error(ctx, g_steal_pointer(&local_error), error);
		return FALSE;
	}
	slc_context_print_raw(ctx, raw);
	return TRUE;
}
