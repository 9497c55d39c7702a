#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <unistd.h>

#include "slc-job-follow.h"

/*
 * Submitting a job and following it to its end, shared by `drivers scan`, `services scan`
 * and `jobs wait`.
 *
 * The event stream is opened first and the job fetched once it is open, so that an end
 * that happens in between is not missed: either the fetch already sees it, or its event
 * arrives on the stream. `job.progress` events move the bar; a terminal event for the job
 * makes us fetch the job once more, for its whole object (the result, the failures). If
 * the stream cannot be opened or breaks, the job is polled instead.
 */

/* RFC 7240: the daemon answers 202 with the job at once instead of holding the answer */
static const char *const prefer_async[] = {"Prefer", "respond-async", NULL};

/**
 * slc_job_path:
 * @id: a job id
 * @action: (nullable): a sub-route, e.g. `cancel`
 *
 * Returns: (transfer full): `/api/jobs/<id>` or `/api/jobs/<id>/<action>`, @id escaped
 */
char *
slc_job_path(const char *id, const char *action)
{
	g_autofree char *escaped = stdiolink_client_escape_segment(id);

	if (action == NULL)
		return g_strdup_printf("/api/jobs/%s", escaped);
	return g_strdup_printf("/api/jobs/%s/%s", escaped, action);
}

/* ---- submitting ----------------------------------------------------------------------------- */

typedef struct {
	GMainLoop *loop;
	GAsyncResult *res;
} SlcJobWait;

static void
submitted_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	SlcJobWait *wait = user_data;

	wait->res = g_object_ref(res);
	g_main_loop_quit(wait->loop);
}

/* a conflict names the job in the way (`jobId` of the error body): the user wants it */
static GError *
name_running_job(GError *conflict, GBytes *raw_body)
{
	g_autoptr(GError) local_error = conflict;
	g_autoptr(JsonNode) body = NULL;
	const char *data;
	const char *job_id;
	gsize size = 0;

	data = raw_body != NULL ? g_bytes_get_data(raw_body, &size) : NULL;
	if (size > 0)
		body = stdiolink_json_parse(data, (gssize)size, NULL);
	job_id = slc_json_get_string(body, "jobId");
	if (job_id == NULL)
		return g_steal_pointer(&local_error);
	return g_error_new(local_error->domain,
			   local_error->code,
			   /* TRANSLATORS: the daemon's message (a job runs), then that job's id */
			   _("%s: job %s\nWait for it with “stdiolinkctl jobs wait %s”."),
			   local_error->message,
			   job_id,
			   job_id);
}

/**
 * slc_job_submit:
 * @ctx: the context
 * @path: the route that creates the job, e.g. `/api/drivers/scan`
 * @body: (nullable): the request body
 * @raw_body: (out) (transfer full): the answer as received
 * @error: return location for a #GError
 *
 * POSTs @body to @path with `Prefer: respond-async`, so that the daemon answers at once
 * with `{"jobId", "status"}` (202). A refusal stays a %STDIOLINK_ERROR (with `--json` its
 * body is printed); a %STDIOLINK_ERROR_JOB_CONFLICT names the running job in its message.
 *
 * Returns: (transfer full) (nullable): the answer, with a `jobId`; %NULL on error
 */
JsonNode *
slc_job_submit(SlcContext *ctx,
	       const char *path,
	       JsonNode *body,
	       GBytes **raw_body,
	       GError **error)
{
	SlcJobWait wait = {ctx->loop, NULL};
	g_autoptr(GError) local_error = NULL;
	g_autoptr(GBytes) raw = NULL;
	g_autoptr(JsonNode) answer = NULL;
	guint status = 0;

	stdiolink_client_request_with_headers_async(ctx->client, "POST", path, prefer_async, body,
						    NULL, submitted_cb, &wait);
	g_main_loop_run(ctx->loop);
	answer = stdiolink_client_request_finish_full(ctx->client, wait.res, &status, &raw,
						      &local_error);
	g_clear_object(&wait.res);

	/* refused: the daemon's message, and with --json its body */
	if (local_error != NULL && local_error->domain == STDIOLINK_ERROR) {
		slc_context_print_error_body(ctx, status, raw);
		if (local_error->code == STDIOLINK_ERROR_JOB_CONFLICT)
			local_error = name_running_job(g_steal_pointer(&local_error), raw);
	}
	if (local_error != NULL) {
		slc_context_take_error(ctx, g_steal_pointer(&local_error), error);
		return NULL;
	}

	/* a daemon without jobs would have held the answer and sent the result instead */
	if (slc_json_get_string(answer, "jobId") == NULL) {
		g_set_error_literal(error,
				    SLC_ERROR,
				    SLC_ERROR_FAILED,
				    _("the daemon sent an unexpected answer"));
		return NULL;
	}
	*raw_body = g_steal_pointer(&raw);
	return g_steal_pointer(&answer);
}

/* ---- following ------------------------------------------------------------------------------ */

typedef struct {
	SlcContext *ctx;
	const char *job_id;
	char *path;		    /* /api/jobs/<id> */
	GCancellable *cancellable;  /* of everything in flight; cancelled at the end */
	GDataInputStream *lines;    /* the event stream while it is open */
	StdiolinkSseParser *parser;
	guint pending;		    /* callbacks still to come; the loop ends at 0 */
	guint poll_id;
	gboolean fetching;	    /* a GET of the job is in flight */
	gboolean fetch_again;	    /* the job ended while it was: its answer may be stale */
	gboolean over;		    /* the job's end or an error is known */
	JsonNode *job;		    /* the finished job */
	GBytes *raw_job;	    /* idem, as received */
	GError *error;

	/* the progress bar, on stderr when it is a terminal */
	gboolean tty;
	gboolean colour;
	guint bar_width; /* columns of the bar on screen, 0: none drawn */
	guint done;
	guint total;
} SlcJobFollow;

static void
job_follow_clear(SlcJobFollow *follow)
{
	g_clear_pointer(&follow->path, g_free);
	g_clear_object(&follow->cancellable);
	g_clear_object(&follow->lines);
	g_clear_pointer(&follow->parser, stdiolink_sse_parser_free);
	g_clear_handle_id(&follow->poll_id, g_source_remove);
	g_clear_pointer(&follow->job, json_node_unref);
	g_clear_pointer(&follow->raw_job, g_bytes_unref);
	g_clear_error(&follow->error);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SlcJobFollow, job_follow_clear)

static void
bar_draw(SlcJobFollow *follow, guint done, guint total)
{
	g_autofree char *bar = NULL;
	guint width = 0;

	/* a fetched job may be older than the last event: the bar never goes back */
	if (total == follow->total && done < follow->done)
		return;
	follow->done = done;
	follow->total = total;
	if (!follow->tty)
		return;

	bar = slc_console_progress_bar(done, total, follow->colour, &width);
	fprintf(stderr, "\r%s", bar);
	for (guint i = width; i < follow->bar_width; i++)
		fputc(' ', stderr);
	follow->bar_width = MAX(width, follow->bar_width);
	fflush(stderr);
}

/* the bar leaves no trace: what is printed next starts on a clean line */
static void
bar_clear(SlcJobFollow *follow)
{
	if (follow->bar_width == 0)
		return;
	fputc('\r', stderr);
	for (guint i = 0; i < follow->bar_width; i++)
		fputc(' ', stderr);
	fputc('\r', stderr);
	fflush(stderr);
	follow->bar_width = 0;
}

static guint
json_uint(JsonNode *root, const char *path)
{
	JsonNode *node = slc_json_lookup(root, path);
	double value;

	if (!stdiolink_json_node_is_number(node))
		return 0;
	value = stdiolink_json_node_get_number(node);
	return value > 0 && value < G_MAXUINT ? (guint)value : 0;
}

static void
follow_maybe_quit(SlcJobFollow *follow)
{
	if (follow->over && follow->pending == 0)
		g_main_loop_quit(follow->ctx->loop);
}

/* the outcome is known: stop everything, and end the loop once every callback is in */
static void
follow_end(SlcJobFollow *follow)
{
	follow->over = TRUE;
	g_cancellable_cancel(follow->cancellable);
	g_clear_handle_id(&follow->poll_id, g_source_remove);
	follow_maybe_quit(follow);
}

static void fetch_job(SlcJobFollow *follow);

static gboolean
poll_cb(gpointer user_data)
{
	SlcJobFollow *follow = user_data;

	follow->poll_id = 0;
	fetch_job(follow);
	return G_SOURCE_REMOVE;
}

static void
schedule_poll(SlcJobFollow *follow)
{
	if (follow->poll_id != 0 || follow->fetching || follow->over)
		return;
	follow->poll_id = g_timeout_add(SLC_JOB_POLL_INTERVAL_MS, poll_cb, follow);
}

static void
job_fetched_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	SlcJobFollow *follow = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) raw = NULL;
	g_autoptr(JsonNode) job = NULL;

	follow->pending--;
	follow->fetching = FALSE;
	job = slc_context_request_finish(follow->ctx, res, &raw, &error);
	if (follow->over) {
		follow_maybe_quit(follow);
		return;
	}
	if (error == NULL && (job == NULL || !JSON_NODE_HOLDS_OBJECT(job))) {
		g_set_error_literal(&error,
				    SLC_ERROR,
				    SLC_ERROR_FAILED,
				    _("the daemon sent an unexpected answer"));
	}
	if (error != NULL) {
		follow->error = g_steal_pointer(&error);
		follow_end(follow);
		return;
	}

	bar_draw(follow, json_uint(job, "progress.done"), json_uint(job, "progress.total"));
	if (slc_job_is_finished(job)) {
		follow->job = g_steal_pointer(&job);
		follow->raw_job = g_steal_pointer(&raw);
		follow_end(follow);
		return;
	}

	/* not over yet: the stream tells when it is, or the next poll */
	if (follow->fetch_again) {
		follow->fetch_again = FALSE;
		fetch_job(follow);
	} else if (follow->lines == NULL) {
		schedule_poll(follow);
	}
}

static void
fetch_job(SlcJobFollow *follow)
{
	if (follow->fetching) {
		follow->fetch_again = TRUE;
		return;
	}
	follow->fetching = TRUE;
	follow->pending++;
	slc_context_request_async(follow->ctx, "GET", follow->path, NULL, follow->cancellable,
				  job_fetched_cb, follow);
}

static void
handle_event(SlcJobFollow *follow, const char *type, const char *text)
{
	g_autoptr(JsonNode) data = stdiolink_json_parse(text, -1, NULL);

	if (g_strcmp0(slc_json_get_string(data, "jobId"), follow->job_id) != 0)
		return;

	if (g_str_equal(type, "job.progress"))
		bar_draw(follow, json_uint(data, "done"), json_uint(data, "total"));
	else if (g_str_equal(type, "job.finished") || g_str_equal(type, "job.failed") ||
		 g_str_equal(type, "job.canceled"))
		fetch_job(follow);
}

static void read_next_line(SlcJobFollow *follow);

static void
line_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	SlcJobFollow *follow = user_data;
	g_autofree char *line = NULL;
	g_autofree char *type = NULL;
	g_autofree char *data = NULL;

	follow->pending--;
	line = g_data_input_stream_read_line_finish_utf8(G_DATA_INPUT_STREAM(source), res, NULL,
							 NULL);
	if (follow->over) {
		follow_maybe_quit(follow);
		return;
	}

	/* the stream broke or the daemon closed it (a slow reader): poll from now on */
	if (line == NULL) {
		g_debug("event stream ended; polling job %s", follow->job_id);
		g_clear_object(&follow->lines);
		schedule_poll(follow);
		return;
	}

	if (stdiolink_sse_parser_push_line(follow->parser, line, &type, &data))
		handle_event(follow, type, data);
	read_next_line(follow);
}

static void
read_next_line(SlcJobFollow *follow)
{
	follow->pending++;
	g_data_input_stream_read_line_async(follow->lines, G_PRIORITY_DEFAULT,
					    follow->cancellable, line_cb, follow);
}

static void
stream_opened_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	SlcJobFollow *follow = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GInputStream) body = NULL;

	follow->pending--;
	body = stdiolink_client_open_stream_finish(STDIOLINK_CLIENT(source), res, NULL, &error);
	if (follow->over) {
		follow_maybe_quit(follow);
		return;
	}

	/* without the stream the fetch below falls back to polling */
	if (body != NULL) {
		follow->lines = g_data_input_stream_new(body);
		g_data_input_stream_set_newline_type(follow->lines, G_DATA_STREAM_NEWLINE_TYPE_LF);
		read_next_line(follow);
	} else {
		g_debug("no event stream (%s); polling job %s", error->message, follow->job_id);
	}
	fetch_job(follow);
}

/* Ctrl+C: stop following; the job itself goes on in the daemon */
static void
follow_interrupt_cb(gpointer user_data)
{
	SlcJobFollow *follow = user_data;

	if (follow->over)
		return;
	g_set_error(&follow->error,
		    SLC_ERROR,
		    SLC_ERROR_FAILED,
		    /* TRANSLATORS: %s is a job id */
		    _("interrupted; job %s goes on in the daemon"),
		    follow->job_id);
	follow_end(follow);
}

/**
 * slc_job_follow:
 * @ctx: the context
 * @job_id: the job
 * @raw_job: (out) (optional) (transfer full): the finished job as received
 * @error: return location for a #GError
 *
 * Follows a job until it has ended (succeeded, failed or canceled): over the event stream,
 * or by polling `GET /api/jobs/<id>` every %SLC_JOB_POLL_INTERVAL_MS when the stream is not
 * available. While it runs, a progress bar is redrawn on stderr if that is a terminal; it
 * is cleared before this returns. Errors are those of the GET (an unknown job is a
 * %STDIOLINK_ERROR_NOT_FOUND); Ctrl+C gives %SLC_ERROR_FAILED.
 *
 * Returns: (transfer full) (nullable): the finished job object, %NULL on error
 */
JsonNode *
slc_job_follow(SlcContext *ctx, const char *job_id, GBytes **raw_job, GError **error)
{
	g_auto(SlcJobFollow) follow = {NULL};
	guint signal_id;

	follow.ctx = ctx;
	follow.job_id = job_id;
	follow.path = slc_job_path(job_id, NULL);
	follow.cancellable = g_cancellable_new();
	follow.parser = stdiolink_sse_parser_new();
	follow.tty = isatty(STDERR_FILENO) == 1;
	follow.colour = slc_console_want_colour(STDERR_FILENO);

	/* the stream first: the job is fetched once it is open */
	signal_id = slc_context_on_interrupt(follow_interrupt_cb, &follow);
	follow.pending++;
	stdiolink_client_open_stream_async(ctx->client, "/api/events/stream?filter=job.",
					   "text/event-stream", follow.cancellable,
					   stream_opened_cb, &follow);
	g_main_loop_run(ctx->loop);
	g_source_remove(signal_id);
	bar_clear(&follow);

	if (follow.error != NULL) {
		g_propagate_error(error, g_steal_pointer(&follow.error));
		return NULL;
	}
	if (raw_job != NULL)
		*raw_job = g_steal_pointer(&follow.raw_job);
	return g_steal_pointer(&follow.job);
}

/**
 * slc_job_is_finished:
 * @job: (nullable): a job object
 *
 * Returns: %TRUE if the job has ended: succeeded, failed or canceled
 */
gboolean
slc_job_is_finished(JsonNode *job)
{
	const char *status = slc_json_get_string(job, "status");

	return g_strcmp0(status, "succeeded") == 0 || g_strcmp0(status, "failed") == 0 ||
	       g_strcmp0(status, "canceled") == 0;
}

/**
 * slc_job_check_outcome:
 * @job: a finished job object
 * @error: return location for a #GError
 *
 * Returns: %TRUE if the job succeeded; %FALSE with %SLC_ERROR_JOB_FAILED (exit status 4)
 * if it failed, with its error message, or was canceled
 */
gboolean
slc_job_check_outcome(JsonNode *job, GError **error)
{
	const char *id = slc_json_get_string(job, "id");
	const char *status = slc_json_get_string(job, "status");
	const char *message = slc_json_get_string(job, "error.message");

	if (g_strcmp0(status, "succeeded") == 0)
		return TRUE;
	if (g_strcmp0(status, "canceled") == 0) {
		g_set_error(error,
			    SLC_ERROR,
			    SLC_ERROR_JOB_FAILED,
			    /* TRANSLATORS: %s is a job id */
			    _("job %s was canceled"),
			    id != NULL ? id : "-");
		return FALSE;
	}
	g_set_error(error,
		    SLC_ERROR,
		    SLC_ERROR_JOB_FAILED,
		    /* TRANSLATORS: a job id, then why it failed */
		    _("job %s failed: %s"),
		    id != NULL ? id : "-",
		    message != NULL ? message : "-");
	return FALSE;
}
