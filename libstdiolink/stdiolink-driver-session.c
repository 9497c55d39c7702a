#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>
#include <glib-unix.h>

#include "stdiolink-driver-session.h"
#include "stdiolink-error.h"
#include "stdiolink-json.h"

/*
 * Each start makes a Run: the process, its pipes and the async operations on them. A run
 * is refcounted by its pending operations, so that a restart or a dispose can let go of
 * it at once while its callbacks still land safely; they see run->session == NULL and
 * stop. The exit is reported once both the process has been reaped and stdout has ended,
 * so every line the driver wrote comes before "exited".
 *
 * The process is spawned with g_spawn_async_with_pipes_and_fds() and reaped by a child
 * watch on the main context (GSubprocess reaps from a worker thread, so a driver that
 * dies at once could lose its pid before we read it). Until the watch has run the pid
 * cannot be reused, which makes kill() on it safe.
 */

#define READ_CHUNK 65536

/* how long stdout may stay open after the exit (a grandchild holding it) */
#define STDOUT_LINGER_MS 1000

typedef struct {
	gint refs;
	StdiolinkDriverSession *session; /* NULL once the session let go */
	GPid pid;
	GOutputStream *in;
	GInputStream *out;
	GCancellable *cancellable;
	StdiolinkJsonlReader *reader;
	guint8 *chunk;
	GQueue writes;	    /* GBytes */
	GBytes *writing;    /* being written; write_all_async points into it */
	gboolean close_requested;
	gboolean stdout_done;
	gboolean exited;
	gboolean reported;
	guint linger_id;
	gint exit_code;
	gboolean crashed;
} Run;

typedef struct {
	char *line;
	StdiolinkDriverEventFunc event_func;
	gpointer event_data;
	gulong cancel_id;
	GCancellable *cancellable;
} Request;

struct _StdiolinkDriverSession {
	GObject parent_instance;

	char *program;
	GStrv args;
	GStrv envp;
	gsize max_buffer;
	Run *run;
	GQueue requests;	  /* GTask; the head is in flight once written */
	gboolean head_written;
};

G_DEFINE_FINAL_TYPE(StdiolinkDriverSession, stdiolink_driver_session, G_TYPE_OBJECT)

enum {
	SIGNAL_LINE,
	SIGNAL_OVERFLOW,
	SIGNAL_EXITED,
	N_SIGNALS
};

static guint signals[N_SIGNALS];

static void fail_requests(StdiolinkDriverSession *self, gint64 code, const char *message);

/* ---- runs ---------------------------------------------------------------------------- */

static Run *
run_ref(Run *run)
{
	run->refs++;
	return run;
}

static void
run_unref(Run *run)
{
	if (--run->refs > 0)
		return;
	g_clear_handle_id(&run->linger_id, g_source_remove);
	g_queue_clear_full(&run->writes, (GDestroyNotify)g_bytes_unref);
	g_clear_pointer(&run->writing, g_bytes_unref);
	g_clear_object(&run->in);
	g_clear_object(&run->out);
	g_clear_object(&run->cancellable);
	g_clear_pointer(&run->reader, stdiolink_jsonl_reader_free);
	g_free(run->chunk);
	g_free(run);
}

/* the session stops hearing from @run; a live process is killed */
static void
run_detach(Run *run)
{
	if (!run->exited)
		kill(run->pid, SIGKILL);
	run->session = NULL;
	g_cancellable_cancel(run->cancellable);
	run_unref(run);
}

static void
stdiolink_driver_session_dispose(GObject *object)
{
	StdiolinkDriverSession *self = STDIOLINK_DRIVER_SESSION(object);

	if (self->run != NULL)
		run_detach(g_steal_pointer(&self->run));
	fail_requests(self, STDIOLINK_JSONL_CODE_DRIVER_EXITED, "driver session closed");
	G_OBJECT_CLASS(stdiolink_driver_session_parent_class)->dispose(object);
}

static void
stdiolink_driver_session_finalize(GObject *object)
{
	StdiolinkDriverSession *self = STDIOLINK_DRIVER_SESSION(object);

	g_free(self->program);
	g_strfreev(self->args);
	g_strfreev(self->envp);
	G_OBJECT_CLASS(stdiolink_driver_session_parent_class)->finalize(object);
}

static void
stdiolink_driver_session_class_init(StdiolinkDriverSessionClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = stdiolink_driver_session_dispose;
	object_class->finalize = stdiolink_driver_session_finalize;

	/**
	 * StdiolinkDriverSession::line:
	 * @session: the session
	 * @line: one line of stdout, trimmed, never blank
	 *
	 * Every line the driver writes, whether or not it is a response.
	 */
	signals[SIGNAL_LINE] = g_signal_new("line", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
					    0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

	/**
	 * StdiolinkDriverSession::overflow:
	 * @session: the session
	 *
	 * The driver wrote more than the buffer limit without a newline: the buffer was
	 * dropped and the driver is being killed ("exited" follows).
	 */
	signals[SIGNAL_OVERFLOW] = g_signal_new("overflow", G_TYPE_FROM_CLASS(klass),
						G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
						G_TYPE_NONE, 0);

	/**
	 * StdiolinkDriverSession::exited:
	 * @session: the session
	 * @code: the exit status, or the signal number if @crashed
	 * @crashed: %TRUE if a signal ended the process
	 *
	 * The driver process ended, after its last line. Not emitted after a dispose.
	 */
	signals[SIGNAL_EXITED] = g_signal_new("exited", G_TYPE_FROM_CLASS(klass),
					      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
					      2, G_TYPE_INT, G_TYPE_BOOLEAN);

	/*
	 * Writing to the stdin of a driver that just died raises SIGPIPE, whose default
	 * action would end the whole host; the failed write is handled as an error instead.
	 */
	signal(SIGPIPE, SIG_IGN);
}

static void
stdiolink_driver_session_init(StdiolinkDriverSession *self)
{
	g_queue_init(&self->requests);
	self->max_buffer = STDIOLINK_JSONL_MAX_LINE;
}

/**
 * stdiolink_driver_session_new:
 * @program: the driver executable
 * @args: (nullable) (array zero-terminated=1): arguments after the program name
 * @envp: (nullable) (array zero-terminated=1): the environment; %NULL inherits ours
 *
 * Returns: (transfer full): a session; the driver is not started yet
 */
StdiolinkDriverSession *
stdiolink_driver_session_new(const char *program,
			     const char *const *args,
			     const char *const *envp)
{
	StdiolinkDriverSession *self = g_object_new(STDIOLINK_TYPE_DRIVER_SESSION, NULL);

	self->program = g_strdup(program);
	self->args = g_strdupv((char **)args);
	self->envp = g_strdupv((char **)envp);
	return self;
}

/**
 * stdiolink_driver_session_set_max_buffer:
 * @self: the session
 * @max_buffer: the most stdout bytes held without a newline (default 8 MiB)
 *
 * Takes effect at the next start.
 */
void
stdiolink_driver_session_set_max_buffer(StdiolinkDriverSession *self, gsize max_buffer)
{
	self->max_buffer = max_buffer;
}

/**
 * stdiolink_driver_session_is_running:
 * @self: the session
 *
 * A process that died counts as running until its exit is reported ("exited"), after its
 * last line: a restart never overtakes the output of the process before.
 *
 * Returns: %TRUE from a successful start until "exited"
 */
gboolean
stdiolink_driver_session_is_running(StdiolinkDriverSession *self)
{
	return self->run != NULL && !self->run->reported;
}

/**
 * stdiolink_driver_session_get_pid:
 * @self: the session
 *
 * Returns: the process id of the last start, 0 before any
 */
gint
stdiolink_driver_session_get_pid(StdiolinkDriverSession *self)
{
	return self->run != NULL ? (gint)self->run->pid : 0;
}

/* ---- exit ---------------------------------------------------------------------------- */

static void
run_report_exit(Run *run)
{
	StdiolinkDriverSession *self = run->session;

	if (run->reported || self == NULL)
		return;
	run->reported = TRUE;
	g_clear_handle_id(&run->linger_id, g_source_remove);

	g_object_ref(self);
	fail_requests(self, STDIOLINK_JSONL_CODE_DRIVER_EXITED, "driver exited");
	g_signal_emit(self, signals[SIGNAL_EXITED], 0, run->exit_code, run->crashed);
	g_object_unref(self);
}

static gboolean
linger_expired_cb(gpointer user_data)
{
	Run *run = user_data;

	run->linger_id = 0;
	g_cancellable_cancel(run->cancellable);
	run_report_exit(run);
	return G_SOURCE_REMOVE;
}

/* the child watch keeps a reference, so a run lives until its process is reaped */
static void
child_exited_cb(GPid pid, gint status, gpointer user_data)
{
	Run *run = user_data;

	g_spawn_close_pid(pid);
	run->exited = TRUE;
	run->crashed = WIFSIGNALED(status);
	run->exit_code = run->crashed ? WTERMSIG(status) : WEXITSTATUS(status);
	if (run->session == NULL)
		return;
	if (run->stdout_done)
		run_report_exit(run);
	else
		run->linger_id = g_timeout_add_full(G_PRIORITY_DEFAULT, STDOUT_LINGER_MS,
						    linger_expired_cb, run_ref(run),
						    (GDestroyNotify)run_unref);
}

/* ---- requests ------------------------------------------------------------------------ */

static void
request_free(gpointer data)
{
	Request *request = data;

	g_free(request->line);
	g_clear_object(&request->cancellable);
	g_free(request);
}

static void write_head_request(StdiolinkDriverSession *self);

/* ends @task with @response (or cancellation) and moves on to the next request */
static void
complete_request(StdiolinkDriverSession *self, GTask *task, StdiolinkJsonlResponse *response)
{
	Request *request = g_task_get_task_data(task);
	gboolean was_head = g_queue_peek_head(&self->requests) == task;

	g_queue_remove(&self->requests, task);
	if (was_head)
		self->head_written = FALSE;
	if (request->cancel_id != 0)
		g_cancellable_disconnect(request->cancellable, request->cancel_id);
	request->cancel_id = 0;

	if (g_task_return_error_if_cancelled(task))
		stdiolink_jsonl_response_free(response);
	else
		g_task_return_pointer(task, response,
				      (GDestroyNotify)stdiolink_jsonl_response_free);
	g_object_unref(task);
	write_head_request(self);
}

static void
fail_requests(StdiolinkDriverSession *self, gint64 code, const char *message)
{
	GTask *task;

	self->head_written = FALSE;
	while ((task = g_queue_peek_head(&self->requests)) != NULL)
		complete_request(self, task, stdiolink_jsonl_response_new_error(code, message));
}

static void
write_head_request(StdiolinkDriverSession *self)
{
	GTask *task = g_queue_peek_head(&self->requests);
	Request *request;

	if (task == NULL || self->head_written || !stdiolink_driver_session_is_running(self))
		return;
	request = g_task_get_task_data(task);
	self->head_written = TRUE;
	stdiolink_driver_session_write_line(self, request->line);
}

/* a line of stdout, as the answer to the request in flight */
static void
route_line(StdiolinkDriverSession *self, const char *line, gsize length)
{
	GTask *task = g_queue_peek_head(&self->requests);
	g_autoptr(StdiolinkJsonlResponse) response = NULL;
	Request *request;
	JsonObject *data;
	g_autoptr(JsonNode) node = NULL;

	if (task == NULL || !self->head_written)
		return;
	request = g_task_get_task_data(task);
	response = stdiolink_jsonl_response_parse(line, (gssize)length, NULL);
	if (response == NULL) {
		/* protocol.md 3: not a response fails the request with the host's 1000 */
		data = json_object_new();
		json_object_set_string_member(data, "message", "invalid response");
		json_object_set_string_member(data, "raw", line);
		node = stdiolink_json_node_new_object(data);
		complete_request(self, task,
				 stdiolink_jsonl_response_new(STDIOLINK_JSONL_ERROR,
							      STDIOLINK_JSONL_CODE_INVALID_RESPONSE,
							      node));
		return;
	}
	if (!stdiolink_jsonl_response_is_terminal(response)) {
		if (request->event_func != NULL)
			request->event_func(response, request->event_data);
		return;
	}
	complete_request(self, task, g_steal_pointer(&response));
}

static void
request_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	GTask *task = user_data;
	StdiolinkDriverSession *self = g_task_get_source_object(task);
	gboolean in_flight = g_queue_peek_head(&self->requests) == task && self->head_written;

	/* a request the driver is working on can only be stopped by stopping the driver */
	if (in_flight)
		stdiolink_driver_session_kill(self);
}

static gboolean
request_cancelled_idle_cb(gpointer user_data)
{
	GTask *task = user_data;
	StdiolinkDriverSession *self = g_task_get_source_object(task);

	if (g_queue_find(&self->requests, task) != NULL) {
		request_cancelled_cb(NULL, task);
		complete_request(self, task,
				 stdiolink_jsonl_response_new_error(
				     STDIOLINK_JSONL_CODE_DRIVER_EXITED, "request cancelled"));
	}
	return G_SOURCE_REMOVE;
}

static void
request_cancel_handler(GCancellable *cancellable, gpointer user_data)
{
	/* the handler may run inside g_cancellable_cancel() anywhere: act from the loop */
	g_idle_add_full(G_PRIORITY_DEFAULT, request_cancelled_idle_cb, g_object_ref(user_data),
			g_object_unref);
}

/**
 * stdiolink_driver_session_request_async:
 * @self: a session
 * @cmd: the command
 * @data: (nullable): its data; %NULL leaves `data` out
 * @event_func: (nullable) (scope forever): called for each `event` response, until the
 *   request ends
 * @event_data: for @event_func
 * @cancellable: (nullable): cancelling kills the driver if the request is in flight (a
 *   oneshot caller then starts it again) or drops it if it is still queued
 * @callback: called with the terminal response
 * @user_data: for @callback
 *
 * Sends one request once the requests before it have ended (requests are not
 * multiplexed). The result is the terminal `done` or `error` response; failures the host
 * detects are synthetic error responses (protocol.md 3.2): 1000 `invalid response` for
 * a line that is not one, 1001 `driver exited` / `driver is not running`, 1002 for a
 * stdout overflow.
 */
void
stdiolink_driver_session_request_async(StdiolinkDriverSession *self,
				       const char *cmd,
				       JsonNode *data,
				       StdiolinkDriverEventFunc event_func,
				       gpointer event_data,
				       GCancellable *cancellable,
				       GAsyncReadyCallback callback,
				       gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	Request *request = g_new0(Request, 1);

	g_task_set_source_tag(task, stdiolink_driver_session_request_async);
	request->line = stdiolink_jsonl_format_request(cmd, data);
	request->event_func = event_func;
	request->event_data = event_data;
	g_task_set_task_data(task, request, request_free);
	g_queue_push_tail(&self->requests, task);

	if (!stdiolink_driver_session_is_running(self)) {
		complete_request(self, task,
				 stdiolink_jsonl_response_new_error(
				     STDIOLINK_JSONL_CODE_DRIVER_EXITED, "driver is not running"));
		return;
	}
	if (cancellable != NULL) {
		request->cancellable = g_object_ref(cancellable);
		request->cancel_id = g_cancellable_connect(cancellable,
							   G_CALLBACK(request_cancel_handler),
							   task, NULL);
	}
	write_head_request(self);
}

/**
 * stdiolink_driver_session_request_finish:
 * @self: a session
 * @result: the result
 * @error: return location for a #GError; only %G_IO_ERROR_CANCELLED
 *
 * Returns: (transfer full): the terminal response, or %NULL if cancelled
 */
StdiolinkJsonlResponse *
stdiolink_driver_session_request_finish(StdiolinkDriverSession *self,
					GAsyncResult *result,
					GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, self), NULL);

	return g_task_propagate_pointer(G_TASK(result), error);
}

/* ---- stdout -------------------------------------------------------------------------- */

static void read_more(Run *run);

static void
handle_line(Run *run, char *line, gsize length)
{
	StdiolinkDriverSession *self = run->session;

	g_signal_emit(self, signals[SIGNAL_LINE], 0, line);
	if (run->session == self)
		route_line(self, line, length);
	g_free(line);
}

static void
handle_overflow(Run *run)
{
	StdiolinkDriverSession *self = run->session;
	GTask *task = g_queue_peek_head(&self->requests);

	kill(run->pid, SIGKILL);
	g_signal_emit(self, signals[SIGNAL_OVERFLOW], 0);
	if (run->session == self && task != NULL && self->head_written)
		complete_request(self, task,
				 stdiolink_jsonl_response_new_error(
				     STDIOLINK_JSONL_CODE_OVERFLOW, "output buffer overflow"));
}

/* hands out complete lines while the session still listens to this run */
static void
handle_lines(Run *run)
{
	gsize length = 0;
	char *line;

	while (run->session != NULL &&
	       (line = stdiolink_jsonl_reader_next_line(run->reader, &length)) != NULL)
		handle_line(run, line, length);
}

static void
read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Run *run = user_data;
	g_autoptr(GError) error = NULL;
	gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), res, &error);
	g_autoptr(StdiolinkDriverSession) self = run->session != NULL ? g_object_ref(run->session)
								       : NULL;

	if (self == NULL) {
		run_unref(run);
		return;
	}
	if (n > 0 && !stdiolink_jsonl_reader_feed(run->reader, run->chunk, (gsize)n, NULL)) {
		/* nothing the dying driver writes after the overflow is worth reading */
		run->stdout_done = TRUE;
		handle_overflow(run);
	} else if (n > 0) {
		handle_lines(run);
		read_more(run);
	} else {
		gsize length = 0;
		char *rest = NULL;

		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			rest = stdiolink_jsonl_reader_finish(run->reader, &length);
		if (rest != NULL)
			handle_line(run, rest, length);
		run->stdout_done = TRUE;
		if (run->exited)
			run_report_exit(run);
	}
	run_unref(run);
}

static void
read_more(Run *run)
{
	if (run->session == NULL)
		return;
	g_input_stream_read_async(run->out, run->chunk, READ_CHUNK, G_PRIORITY_DEFAULT,
				  run->cancellable, read_cb, run_ref(run));
}

/* ---- stdin --------------------------------------------------------------------------- */

static void pump_writes(Run *run);

static void
close_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_output_stream_close_finish(G_OUTPUT_STREAM(source), res, NULL);
	run_unref(user_data);
}

static void
write_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Run *run = user_data;
	g_autoptr(GError) error = NULL;

	g_clear_pointer(&run->writing, g_bytes_unref);
	if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), res, NULL, &error)) {
		/* the driver closed its stdin or died: what is queued cannot be delivered */
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			g_debug("driver stdin: %s", error->message);
		g_queue_clear_full(&run->writes, (GDestroyNotify)g_bytes_unref);
	}
	pump_writes(run);
	run_unref(run);
}

static void
pump_writes(Run *run)
{
	GBytes *bytes;

	if (run->writing != NULL || g_output_stream_is_closed(run->in) ||
	    g_output_stream_has_pending(run->in))
		return;
	bytes = g_queue_pop_head(&run->writes);
	if (bytes == NULL) {
		if (run->close_requested)
			g_output_stream_close_async(run->in, G_PRIORITY_DEFAULT, NULL, close_cb,
						    run_ref(run));
		return;
	}
	run->writing = bytes;
	g_output_stream_write_all_async(run->in, g_bytes_get_data(bytes, NULL),
					g_bytes_get_size(bytes), G_PRIORITY_DEFAULT,
					run->cancellable, write_cb, run_ref(run));
}

/**
 * stdiolink_driver_session_write_line:
 * @self: a session
 * @line: text for the driver's stdin, normally one JSON document and a newline
 *
 * Queues @line; writes happen in order, asynchronously. Dropped when the driver is not
 * running or its stdin was closed.
 */
void
stdiolink_driver_session_write_line(StdiolinkDriverSession *self, const char *line)
{
	Run *run = self->run;

	if (!stdiolink_driver_session_is_running(self) || run->close_requested)
		return;
	g_queue_push_tail(&run->writes, g_bytes_new(line, strlen(line)));
	pump_writes(run);
}

/**
 * stdiolink_driver_session_close_stdin:
 * @self: a session
 *
 * Closes the driver's stdin once the queued lines are written: the driver sees EOF (a
 * keepalive driver then exits, a oneshot one after its current request).
 */
void
stdiolink_driver_session_close_stdin(StdiolinkDriverSession *self)
{
	if (!stdiolink_driver_session_is_running(self))
		return;
	self->run->close_requested = TRUE;
	pump_writes(self->run);
}

/**
 * stdiolink_driver_session_kill:
 * @self: a session
 *
 * Sends SIGKILL and returns at once; "exited" follows when the exit has been observed.
 */
void
stdiolink_driver_session_kill(StdiolinkDriverSession *self)
{
	if (stdiolink_driver_session_is_running(self) && !self->run->exited)
		kill(self->run->pid, SIGKILL);
}

/* ---- start --------------------------------------------------------------------------- */

/* stdin and stdout piped (our ends non-blocking), stderr to /dev/null, not reaped */
static gboolean
spawn(StdiolinkDriverSession *self, Run *run, GError **error)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	int in_fd = -1;
	int out_fd = -1;

	g_ptr_array_add(argv, self->program);
	for (guint i = 0; self->args != NULL && self->args[i] != NULL; i++)
		g_ptr_array_add(argv, self->args[i]);
	g_ptr_array_add(argv, NULL);
	if (!g_spawn_async_with_pipes_and_fds(NULL, (const char *const *)argv->pdata,
					      (const char *const *)self->envp,
					      G_SPAWN_DO_NOT_REAP_CHILD |
						  G_SPAWN_STDERR_TO_DEV_NULL |
						  G_SPAWN_CLOEXEC_PIPES,
					      NULL, NULL, -1, -1, -1, NULL, NULL, 0, &run->pid,
					      &in_fd, &out_fd, NULL, error))
		return FALSE;

	/* a driver that does not read its stdin must not block our writes */
	g_unix_set_fd_nonblocking(in_fd, TRUE, NULL);
	g_unix_set_fd_nonblocking(out_fd, TRUE, NULL);
	run->in = g_unix_output_stream_new(in_fd, TRUE);
	run->out = g_unix_input_stream_new(out_fd, TRUE);
	return TRUE;
}

/**
 * stdiolink_driver_session_start:
 * @self: a session
 * @error: return location for a #GError
 *
 * Starts the driver; after an exit, starts it again (a restart). The previous run's late
 * output is ignored. Fails with %STDIOLINK_ERROR_CONFLICT `driver is already running`, or
 * %STDIOLINK_ERROR_START_FAILED and the system's message when it cannot be executed.
 *
 * Returns: %TRUE if the process runs
 */
gboolean
stdiolink_driver_session_start(StdiolinkDriverSession *self, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	Run *run;

	if (stdiolink_driver_session_is_running(self)) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_CONFLICT,
				    "driver is already running");
		return FALSE;
	}
	run = g_new0(Run, 1);
	run->refs = 1;
	if (!spawn(self, run, &local_error)) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_START_FAILED,
				    local_error->message);
		g_free(run);
		return FALSE;
	}
	/* a request the old process took but never answered ends here */
	if (self->head_written)
		complete_request(self, g_queue_peek_head(&self->requests),
				 stdiolink_jsonl_response_new_error(
				     STDIOLINK_JSONL_CODE_DRIVER_EXITED, "driver exited"));
	if (self->run != NULL)
		run_detach(g_steal_pointer(&self->run));

	run->session = self;
	run->cancellable = g_cancellable_new();
	run->reader = stdiolink_jsonl_reader_new(self->max_buffer);
	run->chunk = g_malloc(READ_CHUNK);
	g_queue_init(&run->writes);
	self->run = run;

	g_child_watch_add_full(G_PRIORITY_DEFAULT, run->pid, child_exited_cb, run_ref(run),
			       (GDestroyNotify)run_unref);
	read_more(run);
	write_head_request(self);
	return TRUE;
}

/**
 * stdiolink_driver_environ:
 * @exe_dir: (nullable): a folder to put first in `PATH`
 *
 * The environment drivers get (protocol.md 7): ours, with @exe_dir (the host program's
 * folder) prepended to `PATH`.
 *
 * Returns: (transfer full): the environment
 */
char **
stdiolink_driver_environ(const char *exe_dir)
{
	char **envp = g_get_environ();
	const char *old;
	g_autofree char *path = NULL;

	if (exe_dir == NULL)
		return envp;
	old = g_environ_getenv(envp, "PATH");
	path = old != NULL && *old != '\0' ? g_strconcat(exe_dir, ":", old, NULL)
					   : g_strdup(exe_dir);
	return g_environ_setenv(envp, "PATH", path, TRUE);
}
