#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "slc-commands.h"

/*
 * `stdiolinkctl events`: the daemon's server-sent event stream, read line by line as it
 * arrives (it never ends by itself), one printed line per event. The stream carries no
 * time, so the time shown is when the event was received.
 */

typedef struct {
	SlcContext *ctx;
	const char *project; /* --project, NULL: every project */
	GCancellable *cancellable;
	GDataInputStream *lines;
	StdiolinkSseParser *parser;
	gboolean interrupted;
	GError *error;
} SlcEventWatch;

static void
event_watch_clear(SlcEventWatch *watch)
{
	g_clear_object(&watch->cancellable);
	g_clear_object(&watch->lines);
	g_clear_pointer(&watch->parser, stdiolink_sse_parser_free);
	g_clear_error(&watch->error);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SlcEventWatch, event_watch_clear)

static char *
stream_path(char **types)
{
	g_autoptr(GString) path = g_string_new("/api/events/stream");

	for (guint i = 0; types != NULL && types[i] != NULL; i++) {
		g_autofree char *escaped = stdiolink_client_escape_segment(types[i]);

		g_string_append(path, i == 0 ? "?filter=" : ",");
		g_string_append(path, escaped);
	}
	return g_strdup(path->str);
}

/* "exitCode=0 instanceId=inst_1a2b3c4d status=normal": the data without the project */
static char *
format_details(JsonNode *data)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GList) members = NULL;

	if (stdiolink_json_node_is_string(data))
		return g_strdup(json_node_get_string(data));
	if (!JSON_NODE_HOLDS_OBJECT(data))
		return stdiolink_json_to_string(data, STDIOLINK_JSON_COMPACT);

	members = stdiolink_json_object_get_sorted_members(json_node_get_object(data));
	for (GList *l = members; l != NULL; l = l->next) {
		g_autofree char *value = NULL;

		if (g_str_equal(l->data, "projectId"))
			continue;
		value = slc_json_display(data, l->data);
		if (out->len > 0)
			g_string_append_c(out, ' ');
		g_string_append_printf(out, "%s=%s", (const char *)l->data, value);
	}
	return g_strdup(out->str);
}

static void
print_human(const char *type, JsonNode *data)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *time = g_date_time_format(now, "%Y-%m-%d %H:%M:%S");
	g_autofree char *details = format_details(data);
	const char *project = slc_json_get_string(data, "projectId");
	g_autofree char *line = g_strdup_printf("%s %s %s %s", time, type,
						project != NULL ? project : "-", details);
	g_autofree char *clean = slc_console_sanitize(line);

	puts(clean);
}

/* {"data":{...},"type":"..."}: one compact object per line */
static void
print_json(const char *type, JsonNode *data)
{
	g_autoptr(JsonObject) object = json_object_new();
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *text = NULL;

	json_object_set_string_member(object, "type", type);
	json_object_set_member(object, "data", json_node_copy(data));
	node = stdiolink_json_node_new_object(g_steal_pointer(&object));
	text = stdiolink_json_to_string(node, STDIOLINK_JSON_COMPACT);
	puts(text);
}

static void
handle_event(SlcEventWatch *watch, const char *type, const char *text)
{
	g_autoptr(JsonNode) data = stdiolink_json_parse(text, -1, NULL);

	/* data that is not JSON is still shown, as text */
	if (data == NULL) {
		data = json_node_new(JSON_NODE_VALUE);
		json_node_set_string(data, text);
	}
	if (watch->project != NULL &&
	    g_strcmp0(slc_json_get_string(data, "projectId"), watch->project) != 0)
		return;

	if (watch->ctx->json)
		print_json(type, data);
	else
		print_human(type, data);
	fflush(stdout);
}

static void
probe_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	SlcEventWatch *watch = user_data;
	g_autoptr(GError) transport_error = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) status = NULL;

	/* only reachability counts; the answer itself is not shown, not even with --json */
	status = stdiolink_client_request_finish(STDIOLINK_CLIENT(source), res, NULL,
						 &transport_error);
	if (transport_error != NULL)
		slc_context_take_error(watch->ctx, g_steal_pointer(&transport_error), &error);
	if (!watch->interrupted && g_error_matches(error, SLC_ERROR, SLC_ERROR_UNREACHABLE)) {
		g_set_error(&watch->error,
			    SLC_ERROR,
			    SLC_ERROR_UNREACHABLE,
			    /* TRANSLATORS: %s is the daemon's address */
			    _("lost the connection to stdiolinkd at %s"),
			    watch->ctx->url);
	} else if (!watch->interrupted) {
		g_set_error_literal(&watch->error,
				    SLC_ERROR,
				    SLC_ERROR_FAILED,
				    _("stdiolinkd closed the event stream"));
	}
	g_main_loop_quit(watch->ctx->loop);
}

/* the stream ended: a daemon that went away is told apart from one that dropped us */
static void
stream_ended(SlcEventWatch *watch)
{
	stdiolink_client_request_async(watch->ctx->client, "GET", "/api/server/status", NULL,
				       watch->cancellable, probe_cb, watch);
}

static void read_next_line(SlcEventWatch *watch);

static void
line_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	SlcEventWatch *watch = user_data;
	g_autoptr(GError) error = NULL;
	g_autofree char *line = NULL;
	g_autofree char *type = NULL;
	g_autofree char *data = NULL;

	line = g_data_input_stream_read_line_finish_utf8(G_DATA_INPUT_STREAM(source), res, NULL,
							 &error);
	if (watch->interrupted) {
		g_main_loop_quit(watch->ctx->loop);
		return;
	}
	if (line == NULL) {
		stream_ended(watch);
		return;
	}

	if (stdiolink_sse_parser_push_line(watch->parser, line, &type, &data))
		handle_event(watch, type, data);
	read_next_line(watch);
}

static void
read_next_line(SlcEventWatch *watch)
{
	g_data_input_stream_read_line_async(watch->lines, G_PRIORITY_DEFAULT, watch->cancellable,
					    line_cb, watch);
}

static void
opened_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	SlcEventWatch *watch = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GInputStream) body = NULL;

	body = stdiolink_client_open_stream_finish(STDIOLINK_CLIENT(source), res, NULL, &error);
	if (watch->interrupted) {
		g_main_loop_quit(watch->ctx->loop);
		return;
	}
	if (body == NULL) {
		slc_context_take_error(watch->ctx, g_steal_pointer(&error), &watch->error);
		g_main_loop_quit(watch->ctx->loop);
		return;
	}

	/* a hint, not output: scripts read stdout */
	fprintf(stderr,
		/* TRANSLATORS: %s is the daemon's address */
		_("Watching the events of stdiolinkd at %s; press Ctrl+C to stop.\n"),
		watch->ctx->url);
	watch->lines = g_data_input_stream_new(body);
	g_data_input_stream_set_newline_type(watch->lines, G_DATA_STREAM_NEWLINE_TYPE_LF);
	read_next_line(watch);
}

/* Ctrl+C: what is in flight is cancelled, and its callback ends the loop */
static void
watch_interrupt_cb(gpointer user_data)
{
	SlcEventWatch *watch = user_data;

	watch->interrupted = TRUE;
	g_cancellable_cancel(watch->cancellable);
}

/**
 * slc_cmd_events:
 * @ctx: the context
 * @args: `--type` (repeatable), `--project`
 * @error: return location for a #GError
 *
 * `stdiolinkctl events`: GET /api/events/stream?filter=T1,T2, printed as
 * `<time> <type> <projectId> <details>` lines, or with `--json` as one
 * `{"type","data"}` object per line, until Ctrl+C (exit status 0). If the stream ends,
 * the exit status is 3 when the daemon is gone and 1 when it closed the stream.
 *
 * Returns: %TRUE if the user stopped it
 */
gboolean
slc_cmd_events(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_auto(SlcEventWatch) watch = {NULL};
	g_autofree char *path = stream_path(args->types);
	guint signal_id;

	watch.ctx = ctx;
	watch.project = args->project;
	watch.cancellable = g_cancellable_new();
	watch.parser = stdiolink_sse_parser_new();

	signal_id = slc_context_on_interrupt(watch_interrupt_cb, &watch);
	stdiolink_client_open_stream_async(ctx->client, path, "text/event-stream",
					   watch.cancellable, opened_cb, &watch);
	g_main_loop_run(ctx->loop);
	g_source_remove(signal_id);

	if (watch.error != NULL) {
		g_propagate_error(error, g_steal_pointer(&watch.error));
		return FALSE;
	}
	return TRUE;
}
