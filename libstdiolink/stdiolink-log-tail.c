#include "config.h"

#include "stdiolink-error.h"
#include "stdiolink-log-tail.h"

/*
 * The last lines of a log file (http-api.md 10). Reading a file may wait on the disk, so the
 * daemon calls the _async form, which reads in a worker thread and touches nothing shared.
 */

static char *
read_end(const char *path, gsize *length, gboolean *partial_first, GError **error)
{
	g_autoptr(GFile) file = g_file_new_for_path(path);
	g_autoptr(GFileInputStream) in = NULL;
	g_autoptr(GFileInfo) info = NULL;
	g_autoptr(GError) local = NULL;
	g_autofree char *buf = NULL;
	goffset size;
	goffset offset;

	in = g_file_read(file, NULL, &local);
	if (in == NULL) {
		if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
			g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND,
					    "log file not found");
		else
			g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
				    "cannot read %s: %s", path, local->message);
		return NULL;
	}
	info = g_file_input_stream_query_info(in, G_FILE_ATTRIBUTE_STANDARD_SIZE, NULL, &local);
	if (info == NULL) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL, "cannot read %s: %s",
			    path, local->message);
		return NULL;
	}

	size = g_file_info_get_size(info);
	offset = size > STDIOLINK_LOG_TAIL_MAX_BYTES ? size - STDIOLINK_LOG_TAIL_MAX_BYTES : 0;
	if (offset > 0 && !g_seekable_seek(G_SEEKABLE(in), offset, G_SEEK_SET, NULL, &local)) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL, "cannot read %s: %s",
			    path, local->message);
		return NULL;
	}

	/* the file may grow meanwhile; what was there at the size check is enough */
	buf = g_malloc((gsize)(size - offset) + 1);
	if (!g_input_stream_read_all(G_INPUT_STREAM(in), buf, (gsize)(size - offset), length,
				     NULL, &local)) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL, "cannot read %s: %s",
			    path, local->message);
		return NULL;
	}
	buf[*length] = '\0';
	*partial_first = offset > 0;
	return g_steal_pointer(&buf);
}

/* the piece [start, end) without surrounding ASCII white space, or NULL if nothing is left */
static char *
trimmed_line(const char *start, const char *end)
{
	while (start < end && g_ascii_isspace(*start))
		start++;
	while (end > start && g_ascii_isspace(end[-1]))
		end--;
	if (start == end)
		return NULL;
	return g_utf8_make_valid(start, end - start);
}

/**
 * stdiolink_log_tail_read:
 * @path: a log file
 * @max_lines: how many lines to keep at most
 * @error: return location for a #GError
 *
 * Reads at most the last %STDIOLINK_LOG_TAIL_MAX_BYTES of @path and splits them on `\n`.
 * When the read starts mid-file the first, partial, piece is dropped, and so is a last piece
 * without its newline (a line still being written). Each line is trimmed
 * of ASCII white space (so `\r\n` endings lose their `\r`), empty lines are dropped and the
 * last @max_lines are kept. Invalid UTF-8 is replaced, so every line is valid text.
 *
 * Blocks on the file system: call it from a worker thread, or use
 * stdiolink_log_tail_read_async().
 *
 * Returns: (transfer full) (element-type utf8): the lines, oldest first; %NULL with
 *   %STDIOLINK_ERROR_NOT_FOUND (`log file not found`) if @path does not exist, or
 *   %STDIOLINK_ERROR_INTERNAL if it cannot be read
 */
GPtrArray *
stdiolink_log_tail_read(const char *path, guint max_lines, GError **error)
{
	gsize length = 0;
	gboolean partial_first = FALSE;
	g_autofree char *text = read_end(path, &length, &partial_first, error);
	GPtrArray *lines;
	const char *end;

	if (text == NULL)
		return NULL;

	/* walk backwards from the end: only the pieces that are kept get copied */
	lines = g_ptr_array_new_with_free_func(g_free);
	end = text + length;

	/*
	 * A last piece without its newline is a line still being written: showing it now and
	 * whole later would make a follower see two different lines where there is one.
	 */
	while (end > text && end[-1] != '\n')
		end--;
	for (const char *p = end; lines->len < max_lines; p--) {
		gboolean at_start = p == text;
		char *line;

		if (!at_start && p[-1] != '\n')
			continue;
		if (at_start && partial_first)
			break;
		line = trimmed_line(p, end);
		if (line != NULL)
			g_ptr_array_add(lines, line);
		if (at_start)
			break;
		end = p - 1;
	}

	/* collected newest first */
	for (guint i = 0; i < lines->len / 2; i++) {
		gpointer tmp = lines->pdata[i];

		lines->pdata[i] = lines->pdata[lines->len - 1 - i];
		lines->pdata[lines->len - 1 - i] = tmp;
	}
	return lines;
}

typedef struct {
	char *path;
	guint max_lines;
} TailData;

static void
tail_data_free(TailData *data)
{
	g_free(data->path);
	g_free(data);
}

static void
tail_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	TailData *data = task_data;
	GError *error = NULL;
	GPtrArray *lines = stdiolink_log_tail_read(data->path, data->max_lines, &error);

	if (lines == NULL)
		g_task_return_error(task, error);
	else
		g_task_return_pointer(task, lines, (GDestroyNotify)g_ptr_array_unref);
}

/**
 * stdiolink_log_tail_read_async:
 * @path: a log file
 * @max_lines: how many lines to keep at most
 * @cancellable: (nullable): a #GCancellable
 * @callback: called on the calling thread's main context when done
 * @user_data: for @callback
 *
 * stdiolink_log_tail_read() in a worker thread.
 */
void
stdiolink_log_tail_read_async(const char *path,
			      guint max_lines,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
	TailData *data = g_new0(TailData, 1);

	g_task_set_source_tag(task, stdiolink_log_tail_read_async);
	data->path = g_strdup(path);
	data->max_lines = max_lines;
	g_task_set_task_data(task, data, (GDestroyNotify)tail_data_free);
	g_task_run_in_thread(task, tail_thread);
}

/**
 * stdiolink_log_tail_read_finish:
 * @res: the result given to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (element-type utf8): as stdiolink_log_tail_read()
 */
GPtrArray *
stdiolink_log_tail_read_finish(GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, NULL), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}
