#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixoutputstream.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "stdiolink-log-writer-private.h"
#include "stdiolink-util.h"

/*
 * A rotating append-only log with the semantics of spdlog's rotating file sink
 * (data-root.md 8). Lines are queued on the main thread and written in order with async
 * output-stream writes; opening the file and rotating it (close, renames, reopen) run in a
 * worker thread that only touches the paths and the stream handed to it.
 */

/*
 * after a failed open, lines are dropped for this long before the next attempt; after a
 * failed rotation, lines go on past the size limit for this long before the next one
 */
#define REOPEN_DELAY_US (10 * G_USEC_PER_SEC)

struct _StdiolinkLogWriter {
	GObject parent_instance;

	char *path;
	gint64 max_bytes;
	guint max_files;

	GQueue pending;		/* GBytes, each one line with its '\n', oldest first */
	guint64 queued_seq;	/* lines ever queued */
	guint64 done_seq;	/* lines written or dropped */
	GList *flushes;		/* FlushWaiter, in request order */

	GOutputStream *stream;
	gint64 size;
	gboolean busy;		/* an open or a write is in flight */
	gint64 open_failed_at;	/* monotonic time of the last failed open, 0 if none */
	gint64 rotate_failed_at; /* the same for a rotation that could not move the file */
	GError *last_error;
	gboolean warned;
	gboolean rotate_warned;
};

G_DEFINE_FINAL_TYPE(StdiolinkLogWriter, stdiolink_log_writer, G_TYPE_OBJECT)

typedef struct {
	GTask *task;
	guint64 target_seq;
} FlushWaiter;

typedef struct {
	char *path;
	guint max_files;
	gboolean rotate;
	GOutputStream *old_stream;
} OpenData;

typedef struct {
	GOutputStream *stream;
	gint64 size;
	gboolean rotate_failed; /* a rotation was asked for, and the file is still there */
} OpenResult;

static void process_queue(StdiolinkLogWriter *self);

static void
open_data_free(OpenData *d)
{
	g_free(d->path);
	g_clear_object(&d->old_stream);
	g_free(d);
}

static void
open_result_free(OpenResult *r)
{
	g_clear_object(&r->stream);
	g_free(r);
}

static void
stdiolink_log_writer_finalize(GObject *object)
{
	StdiolinkLogWriter *self = STDIOLINK_LOG_WRITER(object);

	g_queue_clear_full(&self->pending, (GDestroyNotify)g_bytes_unref);
	g_clear_object(&self->stream);
	g_clear_error(&self->last_error);
	g_free(self->path);
	G_OBJECT_CLASS(stdiolink_log_writer_parent_class)->finalize(object);
}

static void
stdiolink_log_writer_class_init(StdiolinkLogWriterClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = stdiolink_log_writer_finalize;
}

static void
stdiolink_log_writer_init(StdiolinkLogWriter *self)
{
	g_queue_init(&self->pending);
}

/**
 * stdiolink_log_writer_new:
 * @path: the log file; its folder is created when missing
 * @max_bytes: rotate before a line would make the file larger than this
 * @max_files: how many rotated files (`base.1.ext` .. `base.N.ext`) to keep
 *
 * Nothing is opened until the first line is appended.
 *
 * Returns: (transfer full): a new writer
 */
StdiolinkLogWriter *
stdiolink_log_writer_new(const char *path, gint64 max_bytes, guint max_files)
{
	StdiolinkLogWriter *self;

	g_return_val_if_fail(path != NULL, NULL);

	self = g_object_new(STDIOLINK_TYPE_LOG_WRITER, NULL);
	self->path = g_strdup(path);
	self->max_bytes = max_bytes;
	self->max_files = max_files;
	return self;
}

/**
 * stdiolink_log_writer_get_path:
 * @w: a writer
 *
 * Returns: the path of the current (not rotated) file
 */
const char *
stdiolink_log_writer_get_path(StdiolinkLogWriter *w)
{
	g_return_val_if_fail(STDIOLINK_IS_LOG_WRITER(w), NULL);
	return w->path;
}

/**
 * stdiolink_log_writer_rotated_path:
 * @path: a log path such as `logs/p1.log`
 * @n: the rotation index, >= 1
 *
 * Inserts `.N` before the last extension of the file name (`p1.log` -> `p1.1.log`,
 * `events.jsonl` -> `events.1.jsonl`); a name without extension gets `.N` appended.
 *
 * Returns: (transfer full): the rotated path
 */
char *
stdiolink_log_writer_rotated_path(const char *path, guint n)
{
	const char *base = strrchr(path, '/');
	const char *dot;

	base = base != NULL ? base + 1 : path;
	dot = strrchr(base, '.');

	/* like spdlog: a leading dot (hidden file) or a trailing one is not an extension */
	if (dot == NULL || dot == base || dot[1] == '\0')
		return g_strdup_printf("%s.%u", path, n);
	return g_strdup_printf("%.*s.%u%s", (int)(dot - path), path, n, dot);
}

static void
rotate_files(const char *path, guint max_files)
{
	g_autofree char *last = stdiolink_log_writer_rotated_path(path, max_files);

	/* with no backups to keep, rotation just starts the file over */
	if (max_files == 0) {
		g_unlink(path);
		return;
	}

	g_unlink(last);
	for (guint i = max_files; i >= 1; i--) {
		g_autofree char *src = i == 1 ? g_strdup(path)
					      : stdiolink_log_writer_rotated_path(path, i - 1);
		g_autofree char *dst = stdiolink_log_writer_rotated_path(path, i);

		if (!g_file_test(src, G_FILE_TEST_EXISTS))
			continue;
		g_unlink(dst);
		if (g_rename(src, dst) != 0)
			g_debug("cannot rename %s to %s: %s", src, dst, g_strerror(errno));
	}
}

/*
 * Opens @path for appending; only a regular file will do. The open does not wait: a FIFO
 * left in the log's place would otherwise hold the thread, and every flush, until someone
 * read it.
 */
static int
open_append(const char *path, struct stat *st, GError **error)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0644);
	int saved;

	if (fd < 0) {
		saved = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved), "cannot open %s: %s",
			    path, g_strerror(saved));
		return -1;
	}
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
			    "cannot open %s: not a regular file", path);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

static void
open_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	OpenData *d = task_data;
	g_autofree char *parent = g_path_get_dirname(d->path);
	GError *error = NULL;
	OpenResult *result;
	struct stat st;
	int fd;

	/* the old stream is closed before its file is renamed away */
	if (d->old_stream != NULL)
		g_output_stream_close(d->old_stream, NULL, NULL);
	if (d->rotate)
		rotate_files(d->path, d->max_files);

	g_mkdir_with_parents(parent, 0755);
	fd = open_append(d->path, &st, &error);
	if (fd < 0) {
		g_task_return_error(task, error);
		return;
	}

	result = g_new0(OpenResult, 1);
	result->stream = g_unix_output_stream_new(fd, TRUE);
	result->size = st.st_size;

	/* a rotation leaves an empty file behind; anything else means it could not move it */
	result->rotate_failed = d->rotate && st.st_size > 0;
	g_task_return_pointer(task, result, (GDestroyNotify)open_result_free);
}

static void
note_error(StdiolinkLogWriter *self, const GError *error)
{
	if (!self->warned)
		g_warning("log %s: %s", self->path, error->message);
	self->warned = TRUE;
	g_clear_error(&self->last_error);
	self->last_error = g_error_copy(error);
}

/*
 * The lines still have a file: they go on past the size limit rather than have every one of
 * them try (and fail) to rotate again.
 */
static void
note_rotate_failed(StdiolinkLogWriter *self)
{
	if (!self->rotate_warned)
		g_warning("log %s: cannot rotate it, writing on past its size limit", self->path);
	self->rotate_warned = TRUE;
	self->rotate_failed_at = g_get_monotonic_time();
}

static void
drop_pending(StdiolinkLogWriter *self)
{
	self->done_seq += g_queue_get_length(&self->pending);
	g_queue_clear_full(&self->pending, (GDestroyNotify)g_bytes_unref);
}

static void
open_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	StdiolinkLogWriter *self = STDIOLINK_LOG_WRITER(source);
	g_autoptr(GError) error = NULL;
	OpenResult *result = g_task_propagate_pointer(G_TASK(res), &error);

	self->busy = FALSE;
	if (result == NULL) {
		/* without a file the lines have nowhere to go: drop them, retry later */
		note_error(self, error);
		self->open_failed_at = g_get_monotonic_time();
		drop_pending(self);
	} else {
		self->stream = g_steal_pointer(&result->stream);
		self->size = result->size;
		self->open_failed_at = 0;
		if (result->rotate_failed)
			note_rotate_failed(self);
		open_result_free(result);
	}
	process_queue(self);
}

static void
start_open(StdiolinkLogWriter *self, gboolean rotate)
{
	/* the task keeps the writer alive until open_cb has run */
	g_autoptr(GTask) task = g_task_new(self, NULL, open_cb, NULL);
	OpenData *d = g_new0(OpenData, 1);

	d->path = g_strdup(self->path);
	d->max_files = self->max_files;
	d->rotate = rotate;
	d->old_stream = g_steal_pointer(&self->stream);
	g_task_set_task_data(task, d, (GDestroyNotify)open_data_free);
	g_task_set_source_tag(task, start_open);

	self->busy = TRUE;
	g_task_run_in_thread(task, open_thread);
}

static void
write_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(StdiolinkLogWriter) self = STDIOLINK_LOG_WRITER(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) line = g_queue_pop_head(&self->pending);
	gsize written = 0;

	self->busy = FALSE;
	self->done_seq++;
	if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), res, &written, &error)) {
		/* reopen for the next line rather than keep a broken stream */
		note_error(self, error);
		g_clear_object(&self->stream);
	}
	self->size += written;
	process_queue(self);
}

static void
start_write(StdiolinkLogWriter *self, GBytes *line)
{
	gsize len = 0;
	const char *data = g_bytes_get_data(line, &len);

	self->busy = TRUE;
	g_output_stream_write_all_async(self->stream, data, len, G_PRIORITY_DEFAULT, NULL,
					write_cb, g_object_ref(self));
}

static void
complete_flushes(StdiolinkLogWriter *self)
{
	while (self->flushes != NULL) {
		FlushWaiter *waiter = self->flushes->data;
		g_autoptr(GTask) task = NULL;

		if (waiter->target_seq > self->done_seq)
			break;

		self->flushes = g_list_delete_link(self->flushes, self->flushes);
		task = waiter->task;
		g_free(waiter);

		if (self->last_error != NULL)
			g_task_return_error(task, g_steal_pointer(&self->last_error));
		else
			g_task_return_boolean(task, TRUE);
	}
}

static gboolean
rotation_suspended(StdiolinkLogWriter *self)
{
	return self->rotate_failed_at != 0 &&
	       g_get_monotonic_time() - self->rotate_failed_at < REOPEN_DELAY_US;
}

static void
process_queue(StdiolinkLogWriter *self)
{
	GBytes *head;
	gint64 len;

	complete_flushes(self);
	if (self->busy)
		return;

	head = g_queue_peek_head(&self->pending);
	if (head == NULL)
		return;

	/* the file is missing: open it (or keep dropping lines for a while after a failure) */
	if (self->stream == NULL) {
		if (self->open_failed_at != 0 &&
		    g_get_monotonic_time() - self->open_failed_at < REOPEN_DELAY_US) {
			drop_pending(self);
			complete_flushes(self);
			return;
		}
		start_open(self, FALSE);
		return;
	}

	/* spdlog rule: rotate when the line would overflow a non-empty file */
	len = (gint64)g_bytes_get_size(head);
	if (self->size > 0 && self->size + len > self->max_bytes && !rotation_suspended(self)) {
		start_open(self, TRUE);
		return;
	}

	start_write(self, head);
}

/**
 * stdiolink_log_writer_has_warned: (skip)
 * @w: a writer
 *
 * Returns: %TRUE once @w has warned that its file cannot be opened or rotated; such a
 *   writer is worth keeping, so that it does not warn again
 */
gboolean
stdiolink_log_writer_has_warned(StdiolinkLogWriter *w)
{
	return w->warned || w->rotate_warned;
}

/**
 * stdiolink_log_writer_append_data: (skip)
 * @w: a writer
 * @data: the bytes of one line, without its newline
 * @len: their length
 *
 * Queues one line; a `\n` is added.
 */
void
stdiolink_log_writer_append_data(StdiolinkLogWriter *w, const char *data, gsize len)
{
	char *copy = g_malloc(len + 1);

	memcpy(copy, data, len);
	copy[len] = '\n';
	g_queue_push_tail(&w->pending, g_bytes_new_take(copy, len + 1));
	w->queued_seq++;
	process_queue(w);
}

/**
 * stdiolink_log_writer_append_line:
 * @w: a writer
 * @line: one line of text, without its newline
 *
 * Queues @line followed by `\n`. Lines are written in the order they are appended; the
 * write happens later on the main loop.
 */
void
stdiolink_log_writer_append_line(StdiolinkLogWriter *w, const char *line)
{
	g_return_if_fail(STDIOLINK_IS_LOG_WRITER(w));
	g_return_if_fail(line != NULL);

	stdiolink_log_writer_append_data(w, line, strlen(line));
}

/**
 * stdiolink_log_writer_flush_async:
 * @w: a writer
 * @c: (nullable): a #GCancellable
 * @cb: called when every line appended before this call has been written
 * @data: data for @cb
 *
 * Waits, without blocking, for the lines queued so far; lines appended later do not delay
 * it.
 */
void
stdiolink_log_writer_flush_async(StdiolinkLogWriter *w,
				 GCancellable *c,
				 GAsyncReadyCallback cb,
				 gpointer data)
{
	g_autoptr(GTask) task = NULL;
	FlushWaiter *waiter;

	g_return_if_fail(STDIOLINK_IS_LOG_WRITER(w));

	task = g_task_new(w, c, cb, data);
	g_task_set_source_tag(task, stdiolink_log_writer_flush_async);

	waiter = g_new0(FlushWaiter, 1);
	waiter->task = g_steal_pointer(&task);
	waiter->target_seq = w->queued_seq;
	w->flushes = g_list_append(w->flushes, waiter);
	complete_flushes(w);
}

/**
 * stdiolink_log_writer_flush_finish:
 * @w: a writer
 * @res: the result passed to the callback
 * @error: return location for a #GError
 *
 * Returns: %TRUE if the lines were written; %FALSE with the last write or open error
 *   otherwise (the lines are then lost)
 */
gboolean
stdiolink_log_writer_flush_finish(StdiolinkLogWriter *w, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, w), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

struct _StdiolinkLineSplitter {
	StdiolinkLogWriter *writer;
	char *prefix;
	GByteArray *buf;
};

/**
 * stdiolink_line_splitter_new: (skip)
 * @w: the writer that receives the lines
 * @prefix: put before each line, e.g. `[stderr] ` or ``
 *
 * Returns: (transfer full): a splitter for one pipe
 */
StdiolinkLineSplitter *
stdiolink_line_splitter_new(StdiolinkLogWriter *w, const char *prefix)
{
	StdiolinkLineSplitter *s = g_new0(StdiolinkLineSplitter, 1);

	s->writer = g_object_ref(w);
	s->prefix = g_strdup(prefix != NULL ? prefix : "");
	s->buf = g_byte_array_new();
	return s;
}

static void
emit_line(StdiolinkLineSplitter *s, const guint8 *data, gsize len)
{
	g_autofree char *ts = stdiolink_now_iso8601(TRUE);
	g_autoptr(GString) line = g_string_sized_new(len + 40);

	g_string_append(line, ts);
	g_string_append(line, " | ");
	g_string_append(line, s->prefix);
	g_string_append_len(line, (const char *)data, (gssize)len);
	stdiolink_log_writer_append_data(s->writer, line->str, line->len);
}

/**
 * stdiolink_line_splitter_feed: (skip)
 * @s: a splitter
 * @data: bytes read from the pipe
 * @len: their count
 *
 * Writes every complete line (split on `\n`; a `\r` before it is kept). A partial line
 * that grows beyond 1 MiB is written as it is.
 */
void
stdiolink_line_splitter_feed(StdiolinkLineSplitter *s, const guint8 *data, gsize len)
{
	gsize start = 0;

	g_byte_array_append(s->buf, data, (guint)len);
	for (;;) {
		const guint8 *nl = memchr(s->buf->data + start, '\n', s->buf->len - start);

		if (nl == NULL)
			break;
		emit_line(s, s->buf->data + start, (gsize)(nl - (s->buf->data + start)));
		start = (gsize)(nl - s->buf->data) + 1;
	}
	g_byte_array_remove_range(s->buf, 0, (guint)start);

	if (s->buf->len > STDIOLINK_LINE_SPLITTER_MAX_PARTIAL)
		stdiolink_line_splitter_finish(s);
}

/**
 * stdiolink_line_splitter_write_line: (skip)
 * @s: a splitter
 * @line: a line of our own, e.g. the run-timeout notice
 *
 * Writes @line with the splitter's prefix, outside the pipe's own line buffer.
 */
void
stdiolink_line_splitter_write_line(StdiolinkLineSplitter *s, const char *line)
{
	emit_line(s, (const guint8 *)line, strlen(line));
}

/**
 * stdiolink_line_splitter_finish: (skip)
 * @s: a splitter
 *
 * Writes the pending partial line, if any.
 */
void
stdiolink_line_splitter_finish(StdiolinkLineSplitter *s)
{
	if (s->buf->len == 0)
		return;
	emit_line(s, s->buf->data, s->buf->len);
	g_byte_array_set_size(s->buf, 0);
}

/**
 * stdiolink_line_splitter_free: (skip)
 * @s: (nullable): a splitter; a pending partial line is discarded
 */
void
stdiolink_line_splitter_free(StdiolinkLineSplitter *s)
{
	if (s == NULL)
		return;
	g_object_unref(s->writer);
	g_free(s->prefix);
	g_byte_array_unref(s->buf);
	g_free(s);
}
