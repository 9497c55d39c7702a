#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "slc-commands.h"

/*
 * `projects logs` and `instances logs`: the end of a project's log file as the API reads
 * it (the last lines, trimmed, empty ones dropped), and for `-f` the same route polled.
 * The API has no offsets, so new lines are found by lining the new answer up with the
 * previous one: the longest end of the previous answer that starts the new one is what was
 * already printed. A rotated or truncated file matches nothing and is printed whole.
 */

/* the API's own limit on `lines` */
#define SLC_MAX_LOG_LINES 5000

/* how often -f asks, and how many lines it asks for: more than a busy log writes meanwhile */
#define SLC_FOLLOW_INTERVAL_MS 500
#define SLC_FOLLOW_WINDOW 1000

static gboolean
check_lines(SlcArgs *args, GError **error)
{
	if (args->lines >= 1 && args->lines <= SLC_MAX_LOG_LINES)
		return TRUE;
	g_set_error(error,
		    SLC_ERROR,
		    SLC_ERROR_USAGE,
		    /* TRANSLATORS: %d is the largest number of lines, 5000 */
		    _("option “-n” needs a number from 1 to %d"),
		    SLC_MAX_LOG_LINES);
	return FALSE;
}

/* a log holds whatever the program printed: escape sequences must not reach the terminal */
static void
print_line(SlcContext *ctx, const char *line)
{
	g_autofree char *text = NULL;

	if (ctx->json) {
		g_autoptr(JsonNode) node = json_node_new(JSON_NODE_VALUE);

		json_node_set_string(node, line);
		text = stdiolink_json_to_string(node, STDIOLINK_JSON_COMPACT);
	} else {
		text = slc_console_sanitize(line);
	}
	puts(text);
}

static void
render_log(SlcContext *ctx, JsonNode *root)
{
	JsonArray *lines = slc_json_get_array(root, "lines");

	for (guint i = 0; lines != NULL && i < json_array_get_length(lines); i++) {
		JsonNode *line = json_array_get_element(lines, i);

		if (stdiolink_json_node_is_string(line))
			print_line(ctx, json_node_get_string(line));
	}
}

static char *
logs_path(const char *route, guint lines)
{
	return g_strdup_printf("%s?lines=%u", route, lines);
}

/* following */

typedef struct {
	SlcContext *ctx;
	char *path;
	guint show;	   /* lines to print from the first answer */
	GPtrArray *window; /* the lines of the last answer; NULL before the first */
	GCancellable *cancellable;
	guint timer_id;
	gboolean in_flight;
	gboolean interrupted;
	GError *error;
} SlcLogFollow;

static void
log_follow_clear(SlcLogFollow *follow)
{
	g_clear_pointer(&follow->path, g_free);
	g_clear_pointer(&follow->window, g_ptr_array_unref);
	g_clear_object(&follow->cancellable);
	g_clear_handle_id(&follow->timer_id, g_source_remove);
	g_clear_error(&follow->error);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SlcLogFollow, log_follow_clear)

static GPtrArray *
answer_lines(JsonNode *root, GError **error)
{
	JsonArray *lines = slc_json_get_array(root, "lines");
	GPtrArray *out;

	if (lines == NULL) {
		g_set_error_literal(error,
				    SLC_ERROR,
				    SLC_ERROR_FAILED,
				    _("the daemon sent an unexpected answer"));
		return NULL;
	}
	out = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < json_array_get_length(lines); i++) {
		JsonNode *line = json_array_get_element(lines, i);

		if (stdiolink_json_node_is_string(line))
			g_ptr_array_add(out, g_strdup(json_node_get_string(line)));
	}
	return out;
}

static gboolean
tail_starts(GPtrArray *prev, GPtrArray *cur, guint k)
{
	for (guint i = 0; i < k; i++) {
		if (!g_str_equal(g_ptr_array_index(prev, prev->len - k + i),
				 g_ptr_array_index(cur, i)))
			return FALSE;
	}
	return TRUE;
}

/* how many of the first lines of @cur are the last lines of @prev, i.e. already printed */
static guint
lines_already_seen(GPtrArray *prev, GPtrArray *cur)
{
	for (guint k = MIN(prev->len, cur->len); k > 0; k--) {
		if (tail_starts(prev, cur, k))
			return k;
	}
	return 0;
}

static void
print_new_lines(SlcLogFollow *follow, GPtrArray *cur)
{
	guint first;

	if (follow->window == NULL)
		first = cur->len > follow->show ? cur->len - follow->show : 0;
	else
		first = lines_already_seen(follow->window, cur);
	for (guint i = first; i < cur->len; i++)
		print_line(follow->ctx, g_ptr_array_index(cur, i));
	fflush(stdout);
}

static gboolean poll_cb(gpointer user_data);

static void
answer_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	SlcLogFollow *follow = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GPtrArray) cur = NULL;

	follow->in_flight = FALSE;
	root = slc_context_request_finish(follow->ctx, res, NULL, &error);
	if (follow->interrupted) {
		g_main_loop_quit(follow->ctx->loop);
		return;
	}

	cur = error == NULL ? answer_lines(root, &error) : NULL;
	if (cur == NULL) {
		follow->error = g_steal_pointer(&error);
		g_main_loop_quit(follow->ctx->loop);
		return;
	}

	print_new_lines(follow, cur);
	g_clear_pointer(&follow->window, g_ptr_array_unref);
	follow->window = g_steal_pointer(&cur);
	follow->timer_id = g_timeout_add(SLC_FOLLOW_INTERVAL_MS, poll_cb, follow);
}

static gboolean
poll_cb(gpointer user_data)
{
	SlcLogFollow *follow = user_data;

	follow->timer_id = 0;
	follow->in_flight = TRUE;
	slc_context_request_async(follow->ctx, "GET", follow->path, NULL, follow->cancellable,
				  answer_cb, follow);
	return G_SOURCE_REMOVE;
}

/* Ctrl+C: a request in flight is cancelled and its callback ends the loop */
static void
follow_interrupt_cb(gpointer user_data)
{
	SlcLogFollow *follow = user_data;

	follow->interrupted = TRUE;
	g_cancellable_cancel(follow->cancellable);
	if (!follow->in_flight)
		g_main_loop_quit(follow->ctx->loop);
}

static gboolean
follow_log(SlcContext *ctx, const char *route, guint show, GError **error)
{
	g_auto(SlcLogFollow) follow = {NULL};
	guint signal_id;

	follow.ctx = ctx;
	follow.path = logs_path(route, MAX(show, SLC_FOLLOW_WINDOW));
	follow.show = show;
	follow.cancellable = g_cancellable_new();

	signal_id = slc_context_on_interrupt(follow_interrupt_cb, &follow);
	poll_cb(&follow);
	g_main_loop_run(ctx->loop);
	g_source_remove(signal_id);

	if (follow.error != NULL) {
		g_propagate_error(error, g_steal_pointer(&follow.error));
		return FALSE;
	}
	return TRUE;
}

/**
 * slc_cmd_projects_logs:
 * @ctx: the context
 * @args: the project id, `-n`, `-f`
 * @error: return location for a #GError
 *
 * `stdiolinkctl projects logs ID [-n N] [-f]`: GET /api/projects/ID/logs?lines=N, one line
 * per line. With `-f` the route is polled every 500 ms and only new lines are printed
 * until Ctrl+C (exit status 0); with `--json` too, each line is printed as a JSON string.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_projects_logs(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_autofree char *route = NULL;
	g_autofree char *path = NULL;

	if (!check_lines(args, error))
		return FALSE;
	route = slc_project_path(args->positional[0], "logs");
	if (args->follow)
		return follow_log(ctx, route, (guint)args->lines, error);
	path = logs_path(route, (guint)args->lines);
	return slc_context_show(ctx, path, render_log, error);
}

/**
 * slc_cmd_instances_logs:
 * @ctx: the context
 * @args: the instance id (or a project id), `-n`
 * @error: return location for a #GError
 *
 * `stdiolinkctl instances logs ID [-n N]`: GET /api/instances/ID/logs?lines=N. Instances
 * of a project share its log file, so these are the project's last lines.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_instances_logs(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_autofree char *route = NULL;
	g_autofree char *path = NULL;

	if (!check_lines(args, error))
		return FALSE;
	route = slc_instance_path(args->positional[0], "logs");
	path = logs_path(route, (guint)args->lines);
	return slc_context_show(ctx, path, render_log, error);
}
