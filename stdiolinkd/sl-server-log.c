#include "config.h"

#include "sl-server-log.h"
#include "stdiolink.h"

/*
 * The log writer lives on the main loop, but GLib calls the daemon's log handler on whatever
 * thread logged. Lines therefore wait in a locked queue that an idle callback on the main
 * context hands over in order. Going through the idle even on the main thread also keeps the
 * writer from being re-entered when it logs a warning about its own file.
 */

struct _SlServerLog {
	StdiolinkLogWriter *writer;
	GMainContext *context; /* where the writer lives */

	GMutex lock;
	GPtrArray *waiting; /* char *, guarded by lock */
	GSource *idle;	    /* guarded by lock; NULL when no hand-over is scheduled */
};

/**
 * sl_server_log_new:
 * @path: the log file, usually `<data root>/logs/server.log`
 * @max_bytes: `logMaxBytes`
 * @max_files: `logMaxFiles`
 *
 * Must be called on the thread that runs the default main context. Nothing is opened until
 * the first line arrives; a file that cannot be opened is reported once as a warning.
 */
SlServerLog *
sl_server_log_new(const char *path, gint64 max_bytes, guint max_files)
{
	SlServerLog *self = g_new0(SlServerLog, 1);

	self->writer = stdiolink_log_writer_new(path, max_bytes, max_files);
	self->context = g_main_context_ref(g_main_context_default());
	g_mutex_init(&self->lock);
	self->waiting = g_ptr_array_new_with_free_func(g_free);
	return self;
}

/* main thread: moves every waiting line to the writer, oldest first */
static void
hand_over(SlServerLog *self)
{
	g_autoptr(GPtrArray) lines = NULL;

	g_mutex_lock(&self->lock);
	lines = g_steal_pointer(&self->waiting);
	self->waiting = g_ptr_array_new_with_free_func(g_free);
	g_clear_pointer(&self->idle, g_source_unref);
	g_mutex_unlock(&self->lock);

	for (guint i = 0; i < lines->len; i++)
		stdiolink_log_writer_append_line(self->writer, lines->pdata[i]);
}

static gboolean
hand_over_cb(gpointer user_data)
{
	hand_over(user_data);
	return G_SOURCE_REMOVE;
}

/**
 * sl_server_log_append:
 * @self: the server log
 * @line: one formatted line, without its newline
 *
 * Thread-safe. The line is written later, from the main loop.
 */
void
sl_server_log_append(SlServerLog *self, const char *line)
{
	g_mutex_lock(&self->lock);
	g_ptr_array_add(self->waiting, g_strdup(line));
	if (self->idle == NULL) {
		self->idle = g_idle_source_new();
		g_source_set_callback(self->idle, hand_over_cb, self, NULL);
		g_source_attach(self->idle, self->context);
	}
	g_mutex_unlock(&self->lock);
}

static void
flush_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	GError *error = NULL;

	if (!stdiolink_log_writer_flush_finish(STDIOLINK_LOG_WRITER(source), result, &error))
		g_task_return_error(task, error);
	else
		g_task_return_boolean(task, TRUE);
}

/**
 * sl_server_log_flush_async:
 * @self: the server log
 * @callback: called once every line appended so far is in the file (or was dropped)
 * @user_data: for @callback
 *
 * Main thread only; the daemon flushes before it exits.
 */
void
sl_server_log_flush_async(SlServerLog *self, GAsyncReadyCallback callback, gpointer user_data)
{
	GTask *task = g_task_new(NULL, NULL, callback, user_data);

	g_task_set_source_tag(task, sl_server_log_flush_async);
	hand_over(self);
	stdiolink_log_writer_flush_async(self->writer, NULL, flush_cb, task);
}

gboolean
sl_server_log_flush_finish(SlServerLog *self, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
	return g_task_propagate_boolean(G_TASK(result), error);
}

/**
 * sl_server_log_free:
 * @self: the server log
 *
 * Lines not yet written are lost: flush first. No thread may log through @self any more.
 */
void
sl_server_log_free(SlServerLog *self)
{
	if (self->idle != NULL) {
		g_source_destroy(self->idle);
		g_source_unref(self->idle);
	}
	g_ptr_array_unref(self->waiting);
	g_mutex_clear(&self->lock);
	g_main_context_unref(self->context);
	g_object_unref(self->writer);
	g_free(self);
}
